package web

import (
	"net/http"
	"net/netip"
)

// Penalties counts a refusal of a caller nobody authenticated against its
// source's per-source penalty budget: cmd/ca passes the API server
// (api.Server.Penalise), whose guarded listener the pages share, so a
// source over its budget has its new connections refused at accept.
// Penalise reports whether the source is penalised now.
type Penalties interface {
	Penalise(addr netip.Addr, source string) (penalised bool)
}

// penalise counts a refusal of r's caller, who has no web session, against
// its source (clientIP). While the source is penalised the answer closes
// the connection, so a browser or script keeping it alive has to open a
// new one, which is refused at accept. Call it before the answer's header
// is written.
func (s *Server) penalise(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Penalties == nil {
		return
	}
	ap, _ := netip.ParseAddrPort(r.RemoteAddr)
	if s.cfg.Penalties.Penalise(ap.Addr(), clientIP(r)) {
		w.Header().Set("Connection", "close")
	}
}
