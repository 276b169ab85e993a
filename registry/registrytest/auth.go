package registrytest

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
)

// authorize checks the request's credentials; on refusal it writes the
// 401 with its challenge and returns false.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, req *Request) bool {
	switch s.authMode {
	case "basic":
		u, p, ok := r.BasicAuth()
		if ok && u == s.user && p == s.password {
			return true
		}
		w.Header().Set("WWW-Authenticate", s.challenge(req, ""))
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		return false
	case "token":
		if req.Kind == KindToken {
			return true
		}
		grant, ok := s.grant(r)
		need := "pull"
		if req.Write() {
			need = "push"
		}
		if ok && (req.Kind == KindPing || req.Kind == KindOther || strings.Contains(grant[req.Repo], need)) {
			return true
		}
		actions := "pull"
		if need == "push" {
			actions = "pull,push"
		}
		c := s.challenge(req, actions)
		// As distribution's token access controller: a token it knows
		// that lacks the access is insufficient_scope, one it does not
		// know (expired, revoked) invalid_token.
		switch {
		case ok:
			c += `,error="insufficient_scope"`
		case strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "):
			c += `,error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", c)
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		return false
	}
	return true
}

// challenge is the WWW-Authenticate value of a 401 to req: a bearer
// challenge naming the repository and actions with token authentication,
// else Basic.
func (s *Server) challenge(req *Request, actions string) string {
	if s.authMode != "token" {
		return `Basic realm="registrytest"`
	}
	c := fmt.Sprintf(`Bearer realm="%s/token",service="registrytest"`, s.URL)
	if req.Repo != "" {
		c += fmt.Sprintf(`,scope="repository:%s:%s"`, req.Repo, actions)
	}
	return c
}

// grant is what the request's bearer token allows: repository → actions.
func (s *Server) grant(r *http.Request) (map[string]string, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.tokens[tok]
	return g, ok
}

// mayMount reports whether the request may read the mount's source
// repository (always, without token authentication).
func (s *Server) mayMount(r *http.Request, from string) bool {
	if s.authMode != "token" {
		return true
	}
	g, ok := s.grant(r)
	return ok && strings.Contains(g[from], "pull")
}

// issueToken answers the token endpoint: Basic credentials in, a token
// scoped to the requested repositories and actions out.
func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) {
	u, p, ok := r.BasicAuth()
	anonymous := !ok && s.anonymousTokens
	if !anonymous && (!ok || u != s.user || p != s.password) {
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "invalid credentials")
		return
	}
	grant := map[string]string{}
	for _, v := range r.URL.Query()["scope"] {
		if anonymous {
			break
		}
		for _, scope := range strings.Fields(v) {
			parts := strings.Split(scope, ":")
			if len(parts) != 3 || parts[0] != "repository" {
				continue
			}
			actions := parts[2]
			if s.pullOnly && strings.Contains(actions, "push") {
				if s.refusePush {
					writeError(w, http.StatusForbidden, "DENIED", "push not allowed")
					return
				}
				actions = "pull"
			}
			grant[parts[1]] += "," + actions
		}
	}
	s.mu.Lock()
	s.nextToken++
	tok := fmt.Sprintf("registrytest-token-%d", s.nextToken)
	s.tokens[tok] = grant
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"token": tok, "expires_in": 300})
}

// certPEM encodes a DER certificate.
func certPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
