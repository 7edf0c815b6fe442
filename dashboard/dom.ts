/** Small DOM helpers: elements built with textContent only (never innerHTML), so no data can become markup. */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

let fieldIds = 0;
/** A labelled control: every input the dashboard shows has a visible label tied to it. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement): HTMLElement {
  control.id ||= `f${++fieldIds}`;
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control);
}

export function select(name: string, options: [value: string, label: string][], value = ''): HTMLSelectElement {
  const el = h('select', { name }, ...options.map(([v, l]) => h('option', { value: v, selected: v === value }, l)));
  return el;
}

export function table(caption: string, head: string[], rows: Child[][], empty = 'Nothing to show.'): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, ...head.map((name) => h('th', { scope: 'col' }, name)))),
      h('tbody', {}, ...rows.map((cells) => h('tr', {}, ...cells.map((cell) => h('td', {}, cell))))),
    ),
  );
}

export function badge(status: string): HTMLElement {
  return h('span', { class: `badge badge-${status}` }, status.replace(/_/g, ' '));
}

export function section(title: string, ...children: (Child | Child[])[]): HTMLElement {
  return h('section', { class: 'card' }, h('h2', {}, title), ...children);
}

/** `a***@example.com`: enough to recognise an address, not to use it. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email[0]}***${email.slice(at)}`;
}

/** `+1******0100`: the country code and the last four digits. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/[^\d+]/g, '');
  if (digits.length <= 6) return '***';
  const head = digits.startsWith('+') ? digits.slice(0, 2) : digits.slice(0, 1);
  return `${head}${'*'.repeat(digits.length - head.length - 4)}${digits.slice(-4)}`;
}

/** A delivery target or contact: emails and phone numbers are masked, device tokens cut to their end. */
export function maskTarget(target: string): string {
  if (target === '-' || target === '') return target;
  if (target.includes('@')) return maskEmail(target);
  if (/^\+?\d[\d\s-]{5,}$/.test(target)) return maskPhone(target);
  return target.length > 8 ? `…${target.slice(-6)}` : target;
}

export const when = (iso: string | null | undefined): string =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' }) : '—';

export const percent = (rate: number | null): string => (rate === null ? '—' : `${(rate * 100).toFixed(1)}%`);

/** A button that runs `action`, disabled while it runs, its error shown by `onError`. */
export function actionButton(label: string, action: () => Promise<unknown>, attrs: Attrs = {}): HTMLButtonElement {
  const button = h('button', { type: 'button', ...attrs }, label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await action();
    } catch (error) {
      notify((error as Error).message, 'error');
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/** The live region every view reports into (errors, confirmations). */
export function notify(message: string, kind: 'info' | 'error' = 'info'): void {
  const region = document.getElementById('status');
  if (!region) return;
  region.className = `status status-${kind}`;
  region.textContent = message;
}
