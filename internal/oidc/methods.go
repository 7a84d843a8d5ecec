package oidc

import "net/http"

// ProtocolMethods are the request methods each protocol endpoint (ProtocolPaths) serves,
// for mounting: the server routes only these to the provider and answers any other
// method 405 with Allow. GET serves HEAD as well. OPTIONS means the endpoint answers CORS
// preflights (an OPTIONS with Access-Control-Request-Method); discovery needs none, as
// its answer allows every origin and a plain GET is not preflighted.
var ProtocolMethods = map[string][]string{
	DiscoveryPath: {http.MethodGet},
	// OpenID Connect Core, section 3.1.2.1: the authorization endpoint takes GET and POST.
	AuthorizePath:     {http.MethodGet, http.MethodPost, http.MethodOptions},
	TokenPath:         {http.MethodPost, http.MethodOptions},
	IntrospectionPath: {http.MethodPost, http.MethodOptions},
	UserinfoPath:      {http.MethodGet, http.MethodPost, http.MethodOptions},
	RevocationPath:    {http.MethodPost, http.MethodOptions},
	EndSessionPath:    {http.MethodGet, http.MethodPost, http.MethodOptions},
	KeysPath:          {http.MethodGet, http.MethodOptions},
}
