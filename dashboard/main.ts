/**
 * The operator dashboard: sign-in, navigation, and a hash router (`#/notifications/ntf_…`) over the views. Every view
 * reads through /v1 with the signed-in key, so it shows what that key's scopes allow and nothing more.
 */
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { createApi, forgetKey, signIn, storedKey, type Session } from './api';
import type { Ctx, View } from './context';
import { field, h, notify } from './dom';
import type { ApiKeyScope } from '../contract/schemas';
import { campaignsView, failedView, keysView } from './views/operations';
import { notificationView } from './views/notification';
import { notificationsView } from './views/notifications';
import { overviewView } from './views/overview';
import { templatesView } from './views/templates';
import { usersView } from './views/users';

interface Route {
  path: string;
  label: string;
  scope: ApiKeyScope;
  view: View;
  nav: boolean;
}

const ROUTES: Route[] = [
  { path: 'overview', label: 'Overview', scope: 'notifications:read', view: overviewView, nav: true },
  { path: 'notifications', label: 'Notifications', scope: 'notifications:read', view: notificationsView, nav: true },
  { path: 'notification', label: 'Notification', scope: 'notifications:read', view: notificationView, nav: false },
  { path: 'users', label: 'Users', scope: 'users:read', view: usersView, nav: true },
  { path: 'templates', label: 'Templates', scope: 'templates:read', view: templatesView, nav: true },
  { path: 'campaigns', label: 'Campaigns', scope: 'notifications:read', view: campaignsView, nav: true },
  { path: 'failed', label: 'Failed queue', scope: 'notifications:read', view: failedView, nav: true },
  { path: 'keys', label: 'API keys', scope: 'admin', view: keysView, nav: true },
];

const main = () => document.getElementById('main')!;
let session: Session | undefined;
let timers: number[] = [];

function can(scope: ApiKeyScope): boolean {
  return !!session && (session.scopes.includes('admin') || session.scopes.includes(scope));
}

function renderSignIn(message?: string): void {
  document.getElementById('nav')!.replaceChildren();
  document.getElementById('who')!.replaceChildren();
  const key = h('input', {
    type: 'password',
    name: 'apiKey',
    autocomplete: 'off',
    required: true,
    spellcheck: 'false',
  });
  const error = h('p', { class: 'error', role: 'alert', id: 'signin-error' }, message ?? '');
  const form = h(
    'form',
    { class: 'card signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in to Herald'),
    h(
      'p',
      {},
      'Use an API key. It is kept in this tab only and sent as a bearer token; what you see follows its scopes.',
    ),
    field('API key', key),
    h('button', { type: 'submit' }, 'Sign in'),
    error,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      session = await signIn(key.value.trim());
      key.value = '';
      // Stay on a deep link this key may open; otherwise go to the first view it may.
      const wanted = ROUTES.find((r) => location.hash.startsWith(`#/${r.path}`));
      if (!wanted || !can(wanted.scope)) history.replaceState(null, '', firstAllowed());
      await route();
    } catch (failure) {
      error.textContent = (failure as Error).message;
      key.focus();
    }
  });
  main().replaceChildren(form);
  document.title = 'Sign in · Herald';
  key.focus();
}

const firstAllowed = () => `#/${ROUTES.find((r) => r.nav && can(r.scope))?.path ?? 'overview'}`;

function renderNav(current: string): void {
  const links = ROUTES.filter((r) => r.nav && can(r.scope)).map((r) =>
    h('a', { href: `#/${r.path}`, 'aria-current': r.path === current ? 'page' : undefined }, r.label),
  );
  document.getElementById('nav')!.replaceChildren(...links);
  const signOut = h('button', { type: 'button', class: 'link' }, 'Sign out');
  signOut.addEventListener('click', () => {
    forgetKey();
    session = undefined;
    renderSignIn();
  });
  document.getElementById('who')!.replaceChildren(h('span', {}, `Key ${session?.keyId ?? ''}`), signOut);
}

async function route(): Promise<void> {
  for (const timer of timers) clearInterval(timer);
  timers = [];
  const apiKey = storedKey();
  if (!apiKey) return renderSignIn();
  if (!session) {
    try {
      session = await signIn(apiKey);
    } catch (error) {
      forgetKey();
      return renderSignIn((error as Error).message);
    }
  }
  const hash = location.hash.startsWith('#/') ? location.hash.slice(2) : firstAllowed().slice(2);
  const [pathPart = '', queryPart = ''] = hash.split('?');
  const [name, ...rest] = pathPart.split('/');
  const param = rest.length ? decodeURIComponent(rest.join('/')) : undefined;
  // `#/notifications/<id>` is the one-notification view.
  const found = ROUTES.find((r) => r.path === (name === 'notifications' && param ? 'notification' : name));
  const current = found ?? ROUTES[0]!;
  renderNav(current.path === 'notification' ? 'notifications' : current.path);
  document.title = `${current.label} · Herald`;
  if (!can(current.scope)) {
    main().replaceChildren(h('p', { class: 'card' }, `This API key lacks the "${current.scope}" scope for this view.`));
    return;
  }
  const ctx: Ctx = {
    api: createApi(apiKey),
    session: session!,
    can,
    query: new URLSearchParams(queryPart),
    every(ms, fn) {
      timers.push(window.setInterval(() => void fn().catch((e: Error) => notify(e.message, 'error')), ms));
    },
  };
  notify('');
  main().replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
  try {
    const view = await current.view(ctx, param);
    main().replaceChildren(view);
  } catch (error) {
    main().replaceChildren(h('p', { class: 'card error', role: 'alert' }, (error as Error).message));
  }
  main().focus({ preventScroll: true });
}

window.addEventListener('hashchange', () => void route());
void route();
