/**
 * `<herald-inbox>`: a bell with the unread badge and the feed in a panel, live over Server-Sent Events. No framework,
 * no build step: plain JavaScript served at /inbox/herald-inbox.js.
 *
 *   <script src="https://herald.example.com/inbox/herald-inbox.js" type="module"></script>
 *   <herald-inbox api-url="https://herald.example.com" token="hit_…"></herald-inbox>
 *
 * Attributes: `token` (from your server: POST /v1/inbox/tokens; set it again to renew), `api-url` (default: where
 * the script came from), `badge` (`unread`, the default, or `unseen`), `open` (panel open). Events:
 * `herald-inbox:item` (a new item, `detail.item`), `herald-inbox:counts`, `herald-inbox:unauthorized` (the token
 * expired: set a new one), `herald-inbox:click` (before following an item's or action's URL; cancelable).
 * Every text is written as text, never as HTML.
 */
export const HERALD_INBOX_JS = String.raw`(() => {
  if (customElements.get('herald-inbox')) return;
  const scriptOrigin = document.currentScript ? new URL(document.currentScript.src).origin : location.origin;
  const STYLE = ${'`'}
    :host { position: relative; display: inline-block; font: 14px/1.4 system-ui, sans-serif; color: #1f1f1f; }
    button { font: inherit; cursor: pointer; }
    .bell { position: relative; background: none; border: 0; padding: 6px; border-radius: 50%; color: inherit; }
    .bell:hover { background: #0000000d; }
    .bell svg { width: 24px; height: 24px; display: block; }
    .badge { position: absolute; top: 0; right: 0; min-width: 18px; height: 18px; padding: 0 5px; box-sizing: border-box;
      border-radius: 9px; background: #d93025; color: #fff; font-size: 11px; font-weight: 600; line-height: 18px;
      text-align: center; }
    .badge[hidden] { display: none; }
    .panel { position: absolute; right: 0; top: 42px; width: 360px; max-height: 480px; overflow: auto; background: #fff;
      border: 1px solid #dadce0; border-radius: 8px; box-shadow: 0 4px 16px #0000002e; z-index: 1000;
      color: #1f1f1f; text-align: left; }
    .panel[hidden] { display: none; }
    header { display: flex; align-items: center; justify-content: space-between; padding: 10px 14px;
      border-bottom: 1px solid #eee; font-weight: 600; }
    header button { background: none; border: 0; color: #0b57d0; font-size: 13px; }
    ul { list-style: none; margin: 0; padding: 0; }
    li { display: flex; gap: 10px; padding: 10px 14px; border-bottom: 1px solid #f1f1f1; }
    li.unread { background: #f0f6ff; }
    li .dot { flex: none; width: 8px; height: 8px; margin-top: 6px; border-radius: 50%; background: transparent; }
    li.unread .dot { background: #0b57d0; }
    li .main { flex: 1; min-width: 0; cursor: default; }
    li .main.link { cursor: pointer; }
    li .title { font-weight: 600; }
    li .body { color: #444; overflow-wrap: anywhere; }
    li .time { color: #777; font-size: 12px; }
    li .actions { display: flex; gap: 6px; margin-top: 6px; }
    li .actions button { border: 1px solid #dadce0; background: #fff; border-radius: 4px; padding: 2px 8px; font-size: 12px; }
    li .tools { display: flex; flex-direction: column; gap: 4px; }
    li .tools button { background: none; border: 0; color: #0b57d0; font-size: 12px; padding: 0; text-align: right; }
    .empty { padding: 24px; text-align: center; color: #777; }
  ${'`'};
  const BELL = '<svg viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M12 22a2 2 0 0 0 2-2h-4a2 2 0 0 0 2 2Zm6-6V11a6 6 0 0 0-5-5.9V4a1 1 0 1 0-2 0v1.1A6 6 0 0 0 6 11v5l-2 2v1h16v-1l-2-2Z"/></svg>';

  class HeraldInbox extends HTMLElement {
    static get observedAttributes() { return ['token', 'api-url', 'open']; }

    constructor() {
      super();
      this.items = [];
      this.counts = { unread: 0, unseen: 0, total: 0 };
      this.lastEventId = null;
      this.nextCursor = null;
      const root = this.attachShadow({ mode: 'open' });
      root.innerHTML = '<style>' + STYLE + '</style>' +
        '<button class="bell" part="bell" aria-label="Notifications">' + BELL +
        '<span class="badge" part="badge" hidden></span></button>' +
        '<div class="panel" part="panel" hidden><header><span>Notifications</span>' +
        '<button class="all-read" type="button">Mark all as read</button></header><ul></ul>' +
        '<div class="empty" hidden>No notifications</div></div>';
      this.$badge = root.querySelector('.badge');
      this.$panel = root.querySelector('.panel');
      this.$list = root.querySelector('ul');
      this.$empty = root.querySelector('.empty');
      root.querySelector('.bell').addEventListener('click', () => this.toggle());
      root.querySelector('.all-read').addEventListener('click', () => this.markAllRead());
      this.$panel.addEventListener('scroll', () => {
        const p = this.$panel;
        if (this.nextCursor && p.scrollTop + p.clientHeight >= p.scrollHeight - 40) this.loadMore();
      });
    }

    get apiUrl() { return (this.getAttribute('api-url') || scriptOrigin).replace(/\/+$/, ''); }
    get token() { return this.getAttribute('token') || ''; }
    set token(value) { this.setAttribute('token', value); }

    connectedCallback() { this.start(); }
    disconnectedCallback() { this.stop(); }
    attributeChangedCallback(name, before, after) {
      if (name === 'open') this.$panel.hidden = after === null;
      else if (before !== after && this.isConnected) this.start();
    }

    async request(method, path, body) {
      const response = await fetch(this.apiUrl + path, {
        method,
        headers: Object.assign({ authorization: 'Bearer ' + this.token },
          body === undefined ? {} : { 'content-type': 'application/json' }),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (response.status === 401) {
        this.stop();
        this.dispatchEvent(new CustomEvent('herald-inbox:unauthorized', { bubbles: true, composed: true }));
        throw new Error('unauthorized');
      }
      if (!response.ok) throw new Error('Herald answered ' + response.status);
      return response.json();
    }

    async start() {
      this.stop();
      if (!this.token) return;
      const generation = (this.generation = (this.generation || 0) + 1);
      try {
        const page = await this.request('GET', '/v1/inbox/items?limit=20');
        if (generation !== this.generation) return;
        this.items = page.items;
        this.nextCursor = page.pageInfo.nextCursor;
        this.lastEventId = page.lastEventId;
        this.setCounts(page.counts);
        this.render();
        this.listen(generation);
      } catch (error) { /* unauthorized is reported; the rest: the next token or reconnect tries again */ }
    }

    stop() {
      this.generation = (this.generation || 0) + 1;
      if (this.source) this.source.close();
      this.source = null;
    }

    listen(generation) {
      const url = this.apiUrl + '/v1/inbox/stream?token=' + encodeURIComponent(this.token) +
        '&lastEventId=' + encodeURIComponent(this.lastEventId || '0');
      const source = (this.source = new EventSource(url));
      const on = (type, fn) => source.addEventListener(type, (message) => {
        if (generation !== this.generation) return;
        this.lastEventId = message.lastEventId;
        fn(JSON.parse(message.data));
      });
      on('ready', (data) => this.setCounts(data.counts));
      on('reset', () => this.start());
      on('item.created', (data) => {
        if (!this.items.some((i) => i.id === data.item.id)) this.items.unshift(data.item);
        this.setCounts(data.counts);
        this.render();
        this.dispatchEvent(new CustomEvent('herald-inbox:item', { detail: { item: data.item }, bubbles: true, composed: true }));
      });
      on('items.updated', (data) => {
        const ids = new Set(data.ids);
        const now = new Date().toISOString();
        if (data.change === 'delete' || data.change === 'archive') {
          this.items = this.items.filter((i) => !ids.has(i.id));
        } else {
          for (const item of this.items) {
            if (!ids.has(item.id)) continue;
            if (data.change === 'read') { item.readAt = item.readAt || now; item.seenAt = item.seenAt || now; }
            if (data.change === 'unread') item.readAt = null;
            if (data.change === 'seen') item.seenAt = item.seenAt || now;
          }
        }
        if (data.change === 'unarchive') return this.start();
        this.setCounts(data.counts);
        this.render();
      });
      source.onerror = () => {
        // The browser reconnects by itself (with Last-Event-ID); a refused token closes the stream for good.
        if (source.readyState === EventSource.CLOSED && generation === this.generation) {
          this.request('GET', '/v1/inbox/counts').then(() => this.start(), () => undefined);
        }
      };
    }

    async loadMore() {
      if (this.loading || !this.nextCursor) return;
      this.loading = true;
      try {
        const page = await this.request('GET', '/v1/inbox/items?limit=20&cursor=' + encodeURIComponent(this.nextCursor));
        const known = new Set(this.items.map((i) => i.id));
        this.items.push(...page.items.filter((i) => !known.has(i.id)));
        this.nextCursor = page.pageInfo.nextCursor;
        this.render();
      } finally { this.loading = false; }
    }

    setCounts(counts) {
      this.counts = counts;
      const n = this.getAttribute('badge') === 'unseen' ? counts.unseen : counts.unread;
      this.$badge.hidden = n === 0;
      this.$badge.textContent = n > 99 ? '99+' : String(n);
      this.dispatchEvent(new CustomEvent('herald-inbox:counts', { detail: counts, bubbles: true, composed: true }));
    }

    toggle() {
      if (this.hasAttribute('open')) this.removeAttribute('open');
      else {
        this.setAttribute('open', '');
        if (this.counts.unseen > 0) this.request('POST', '/v1/inbox/items/seen', { all: true }).catch(() => undefined);
      }
    }

    markRead(id) { return this.request('POST', '/v1/inbox/items/' + encodeURIComponent(id) + '/read'); }
    archive(id) { return this.request('POST', '/v1/inbox/items/' + encodeURIComponent(id) + '/archive'); }
    markAllRead() { return this.request('POST', '/v1/inbox/items/read', { all: true }); }

    async follow(item, action) {
      const url = action === undefined ? item.url : item.actions[action].url;
      const event = new CustomEvent('herald-inbox:click', { detail: { item, action, url }, bubbles: true, composed: true, cancelable: true });
      const answer = await this.request('POST', '/v1/inbox/items/' + encodeURIComponent(item.id) + '/click',
        action === undefined ? {} : { action });
      // Only web links are followed (never javascript: or data: URLs, whatever a template wrote).
      if (this.dispatchEvent(event) && /^https?:\/\//i.test(answer.url || '')) window.open(answer.url, '_blank', 'noopener');
    }

    render() {
      const list = this.$list;
      list.textContent = '';
      this.$empty.hidden = this.items.length > 0;
      for (const item of this.items) {
        const li = document.createElement('li');
        li.dataset.id = item.id;
        if (!item.readAt) li.className = 'unread';
        const dot = document.createElement('span');
        dot.className = 'dot';
        const main = document.createElement('div');
        main.className = 'main' + (item.url ? ' link' : '');
        const title = document.createElement('div');
        title.className = 'title';
        title.textContent = item.title;
        const body = document.createElement('div');
        body.className = 'body';
        body.textContent = item.body;
        const time = document.createElement('div');
        time.className = 'time';
        time.textContent = new Date(item.createdAt).toLocaleString();
        main.append(title, body, time);
        if (item.url) main.addEventListener('click', () => this.follow(item));
        if (item.actions.length > 0) {
          const actions = document.createElement('div');
          actions.className = 'actions';
          item.actions.forEach((action, index) => {
            const button = document.createElement('button');
            button.type = 'button';
            button.textContent = action.label;
            button.addEventListener('click', (e) => { e.stopPropagation(); this.follow(item, index); });
            actions.append(button);
          });
          main.append(actions);
        }
        const tools = document.createElement('div');
        tools.className = 'tools';
        if (!item.readAt) {
          const read = document.createElement('button');
          read.type = 'button';
          read.className = 'mark-read';
          read.textContent = 'Mark as read';
          read.addEventListener('click', () => this.markRead(item.id).catch(() => undefined));
          tools.append(read);
        }
        const archive = document.createElement('button');
        archive.type = 'button';
        archive.className = 'archive';
        archive.textContent = 'Archive';
        archive.addEventListener('click', () => this.archive(item.id).catch(() => undefined));
        tools.append(archive);
        li.append(dot, main, tools);
        list.append(li);
      }
    }
  }
  customElements.define('herald-inbox', HeraldInbox);
})();
`;
