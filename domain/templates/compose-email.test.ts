import { randomBytes } from 'node:crypto';
import { TrackingSigner, TrackingUrls } from '../tracking/tokens';
import { composeEmail } from './compose-email';
import { htmlToText } from './html-to-text';

const urls = new TrackingUrls('https://herald.example', new TrackingSigner(randomBytes(32)));
const deliveryId = 'dlv_0123456789abcdef';

describe('html to text', () => {
  it('keeps paragraphs, line breaks, list items and link targets; drops head, style and markup', () => {
    const html =
      '<html><head><title>T</title><style>p{color:red}</style></head><body>' +
      '<h1>Order   shipped</h1><p>Hello&nbsp;Ada &amp; co,<br>your parcel is on its way.</p>' +
      '<ul><li>Book</li><li>Pen</li></ul><p><a href="https://shop.example/o/1?a=1&amp;b=2">Track it</a> or ' +
      '<a href="https://shop.example/help">https://shop.example/help</a></p></body></html>';
    expect(htmlToText(html)).toBe(
      'Order shipped\n\nHello Ada & co,\nyour parcel is on its way.\n\n- Book\n- Pen\n\n' +
        'Track it (https://shop.example/o/1?a=1&b=2) or https://shop.example/help',
    );
  });
});

describe('composing an email', () => {
  it('wraps the body in the layout, derives the text part, tracks links, adds the pixel and List-Unsubscribe', async () => {
    const email = await composeEmail(
      {
        subject: 'Your order',
        html: '<p>See <a href="https://shop.example/o/1?a=1&amp;b=2">your order</a> or <a data-herald-no-track href="https://shop.example/raw">this</a>.</p>',
      },
      {
        deliveryId,
        layout:
          '<html><body><div class="brand">ACME</div>{{ content }}<a href="{{ unsubscribe_url }}">Unsubscribe</a></body></html>',
        urls,
        trackClicks: true,
        trackOpens: true,
        unsubscribeMailto: 'unsubscribe@acme.example',
      },
    );
    const unsubscribe = urls.unsubscribe(deliveryId);
    expect(email.links).toEqual(['https://shop.example/o/1?a=1&b=2']);
    expect(email.html).toContain('<div class="brand">ACME</div>');
    expect(email.html).toContain(`<a href="${urls.click(deliveryId, 0)}">your order</a>`);
    expect(email.html).toContain('href="https://shop.example/raw"');
    expect(email.html).toContain(`href="${unsubscribe}"`);
    expect(email.html).toMatch(
      new RegExp(`<img src="${urls.open(deliveryId).replace(/\./g, '\\.')}"[^>]*/></body></html>$`),
    );
    expect(email.text).toBe(
      `ACME\n\nSee your order (${urls.click(deliveryId, 0)}) or this (https://shop.example/raw).\n\nUnsubscribe (${unsubscribe})`,
    );
    expect(email.headers).toEqual({
      'List-Unsubscribe': `<${unsubscribe}>, <mailto:unsubscribe@acme.example?subject=unsubscribe%20${deliveryId}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
  });

  it('keeps a template text part, tracking its links with the same index as the HTML ones', async () => {
    const email = await composeEmail(
      {
        subject: 's',
        html: '<a href="https://a.example/x">x</a>',
        text: 'Go to https://a.example/x. Or https://b.example!',
      },
      { deliveryId, urls, trackClicks: true, trackOpens: false },
    );
    expect(email.links).toEqual(['https://a.example/x', 'https://b.example']);
    expect(email.text).toBe(`Go to ${urls.click(deliveryId, 0)}. Or ${urls.click(deliveryId, 1)}!`);
    expect(email.html).not.toContain('<img');
  });

  it('without tracking set up, sends what was rendered plus a derived text part', async () => {
    expect(
      await composeEmail({ subject: 's', html: '<p>Hi <a href="https://x.example">x</a></p>' }, { deliveryId }),
    ).toEqual({
      subject: 's',
      html: '<p>Hi <a href="https://x.example">x</a></p>',
      text: 'Hi x (https://x.example)',
    });
  });
});
