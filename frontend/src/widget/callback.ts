// The sign-in pop-up lands here with ?code&state: hand the response to the
// widget frame that opened the pop-up (same origin only) and close.
import './widget.css';

const status = document.getElementById('status')!;
const search = location.search;
history.replaceState(null, '', location.pathname); // the code leaves the address bar

const opener = window.opener as Window | null;
if (opener && !opener.closed) {
  opener.postMessage({ type: 'switchboard:signin', search }, location.origin);
  status.textContent = 'Signed in. You can close this window.';
  window.close();
} else {
  status.textContent = 'This sign-in window has lost the chat that opened it. Close it and sign in again from the chat.';
}
