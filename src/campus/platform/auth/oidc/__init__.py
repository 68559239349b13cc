"""OpenID Connect provider and OAuth 2 authorization server of the authentication center:
discovery, JWKS with key rotation, authorization code + PKCE, refresh-token rotation with reuse
detection, client credentials, introspection, revocation, userinfo, RP-initiated and back-channel
logout, and the registry of client applications."""
