// Prints the decoded header and claims of each kind of token the suite uses.
//   node lib/check-tokens.mjs
import { startProvider } from './provider.mjs';
import {
  tokenFor, idTokenFor, expiringTokenFor, wrongAudienceTokenFor, programToken, decodeJwt,
} from './tokens.mjs';

const p = await startProvider();
console.log('issuer', p.issuer);
const show = (label, t) => console.log(label, JSON.stringify(decodeJwt(t)));
try {
  show('operator-1', await tokenFor('operator-1'));
  show('user-1', await tokenFor('user-1'));
  show('program-42', await programToken('program-42'));
  show('id-token user-1', await idTokenFor('user-1'));
  show('expiring user-2', await expiringTokenFor('user-2'));
  show('wrong-aud user-1', await wrongAudienceTokenFor('user-1'));
  const disc = await (await fetch(`${p.issuer}/.well-known/openid-configuration`)).json();
  console.log('discovery issuer', disc.issuer, 'jwks_uri', disc.jwks_uri);
} finally {
  await p.stop();
}
