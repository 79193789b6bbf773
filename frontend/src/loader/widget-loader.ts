// widget.js: the one <script> tag a site embeds.
//
//   <script src="https://support.example.com/widget.js"
//           data-title="Example support" data-accent="#0b57d0" data-position="right" async></script>
//
// data-identity (optional) is an identity the site's backend signed for its
// logged-in user (SWITCHBOARD_VISITOR_SECRET); without it, a visitor chats
// anonymously where the server allows that. data-team (optional) is the id
// of the team the visitor's tickets are for. data-locale (optional) is the
// chat's language (a BCP 47 tag such as "de" or "es-MX"); without it the
// chat speaks the browser's, and the page's lang attribute comes next.
//
// It adds one iframe (the chat, served by Switchboard, which signs in and
// talks to the server on its own origin) in a corner of the page and sizes
// it when the chat opens or closes. It tells the chat the page's origin
// (which the chat posts to) and, for the operators, the visitor's context:
// the page's address (without its fragment), the referrer and the site's
// own data-* attributes of the tag. The page may add attributes and open
// the chat with window.Switchboard.identify({...}) and .open().

/** The tag's own options: not the site's attributes. */
const OPTIONS = new Set(['title', 'accent', 'position', 'label', 'identity', 'team', 'locale']);

interface WidgetMessage {
  type: 'switchboard:widget';
  open: boolean;
  unread: number;
}

(() => {
  const script = document.currentScript as HTMLScriptElement | null;
  const w = window as unknown as { __switchboardWidget?: boolean };
  if (!script || !script.src || w.__switchboardWidget) return;
  w.__switchboardWidget = true;

  const origin = new URL(script.src, location.href).origin;
  const data = script.dataset;
  const side = data.position === 'left' ? 'left' : 'right';
  const params = new URLSearchParams({ position: side });
  if (data.title) params.set('title', data.title.slice(0, 80));
  if (data.accent && /^#[0-9a-fA-F]{6}$/.test(data.accent)) params.set('accent', data.accent);
  // A site's backend vouches for its logged-in user with a signed identity
  // (identified visitors); the chat exchanges it for its token.
  if (data.identity) params.set('identity', data.identity);
  // The team the visitor's tickets are for (1 to 40 lower-case letters, digits and -).
  if (data.team && /^[a-z0-9-]{1,40}$/.test(data.team)) params.set('team', data.team);
  // The chat's language: the tag's, else (in the chat) the browser's.
  if (data.locale && /^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$/.test(data.locale)) params.set('locale', data.locale);
  // The only origin the chat posts its state to (where browsers cannot
  // tell it the embedding page's origin themselves).
  params.set('host', location.origin);

  const page = () => {
    const u = new URL(location.href);
    u.hash = '';
    return u.toString();
  };
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) if (!OPTIONS.has(k) && typeof v === 'string') attributes[k] = v;
  params.set('context', JSON.stringify({ pageUrl: page(), referrer: document.referrer, ...attributes }));

  const frame = document.createElement('iframe');
  // Options travel in the fragment: never sent to a server or a referrer.
  frame.src = `${origin}/widget/#${params.toString()}`;
  frame.title = data.label || data.title || 'Support chat';
  frame.setAttribute('data-switchboard-widget', '');
  const s = frame.style;
  s.position = 'fixed';
  s.bottom = '12px';
  s[side] = '12px';
  s.border = '0';
  s.background = 'transparent';
  s.colorScheme = 'normal';
  s.zIndex = '2147483000';
  s.maxWidth = '100vw';
  s.maxHeight = '100vh';

  let open = false;
  const size = () => {
    if (!open) {
      s.width = '72px';
      s.height = '72px';
      s.bottom = '12px';
      s[side] = '12px';
    } else if (window.innerWidth < 480) {
      s.width = '100vw';
      s.height = '100vh';
      s.bottom = '0';
      s[side] = '0';
    } else {
      s.width = '400px';
      s.height = `${Math.min(660, window.innerHeight - 24)}px`;
      s.bottom = '12px';
      s[side] = '12px';
    }
  };
  size();

  window.addEventListener('message', (e: MessageEvent) => {
    const m = e.data as WidgetMessage | null;
    if (e.origin !== origin || e.source !== frame.contentWindow || !m || m.type !== 'switchboard:widget') return;
    open = !!m.open;
    size();
  });
  window.addEventListener('resize', size);

  // The page's word to the chat, posted to the chat's origin only.
  const post = (m: object) => frame.contentWindow?.postMessage(m, origin);
  (window as unknown as { Switchboard: object }).Switchboard = {
    /** Adds attributes (strings) the operators see with the visitor's next ticket. */
    identify(attrs: Record<string, unknown>) {
      const clean: Record<string, string> = {};
      for (const [k, v] of Object.entries(attrs ?? {})) if (v !== undefined && v !== null) clean[k] = String(v);
      post({ type: 'switchboard:identify', attributes: clean, pageUrl: page() });
    },
    /** Opens the chat. */
    open() {
      post({ type: 'switchboard:open' });
    },
  };

  const mount = () => document.body.appendChild(frame);
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
