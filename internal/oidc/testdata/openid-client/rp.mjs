// A relying party built with panva's openid-client, as a Node.js application would use it.
// TestOpenIDClientInterop runs it: this script prints one JSON line with the authorization
// URL, reads the URL the browser came back to on standard input, then uses every endpoint
// and prints one JSON line with what it saw. Any error ends it with a non-zero exit.
import * as client from 'openid-client'
import { createInterface } from 'node:readline'

const env = (name) => {
  const v = process.env[name]
  if (!v) throw new Error(`${name} is not set`)
  return v
}

// client_secret_basic: twofold's introspection endpoint takes no other, and openid-client
// uses one method for every endpoint.
const auth = client.ClientSecretBasic(env('CLIENT_SECRET'))
// twofold signs ID tokens with ES256 (openid-client expects RS256 unless told); the test
// server speaks plain http.
const config = await client.discovery(new URL(env('ISSUER')), env('CLIENT_ID'), {
  id_token_signed_response_alg: 'ES256',
}, auth, { execute: [client.allowInsecureRequests] })

const verifier = client.randomPKCECodeVerifier()
const state = client.randomState()
const nonce = client.randomNonce()
const authorize = client.buildAuthorizationUrl(config, {
  redirect_uri: env('REDIRECT_URI'),
  scope: 'openid profile email offline_access',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
  acr_values: 'http://schemas.openid.net/pape/policies/2007/06/multi-factor',
})
console.log(JSON.stringify({ authorize: authorize.href }))

const lines = createInterface({ input: process.stdin })
const callback = await new Promise((resolve) => lines.once('line', resolve))
lines.close()

const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
})
const claims = tokens.claims()
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
const introspection = await client.tokenIntrospection(config, tokens.access_token)
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
await client.tokenRevocation(config, refreshed.refresh_token)
const endSession = client.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token,
  post_logout_redirect_uri: env('POST_LOGOUT_REDIRECT_URI'),
  state: 'bye',
})
console.log(JSON.stringify({
  claims,
  userinfo,
  introspection,
  refreshedSub: refreshed.claims()?.sub ?? '',
  revokedRefreshToken: refreshed.refresh_token,
  endSession: endSession.href,
}))
