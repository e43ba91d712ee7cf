// A B24OAuth client from the tokens of b24local's /oauth/token/ answer (shared by the OAuth runners).
import { B24OAuth } from '@bitrix24/b24jssdk'

export function oauthClient (config) {
  const t = config.tokens
  return new B24OAuth(
    {
      applicationToken: '',
      userId: t.user_id,
      memberId: t.member_id,
      accessToken: t.access_token,
      refreshToken: t.refresh_token,
      expires: t.expires,
      expiresIn: t.expires_in,
      scope: t.scope,
      domain: t.domain,
      clientEndpoint: t.client_endpoint,
      serverEndpoint: t.server_endpoint,
      status: t.status
    },
    { clientId: config.clientId, clientSecret: config.clientSecret }
  )
}
