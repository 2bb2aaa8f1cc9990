package apiauth

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func BenchmarkSignVerify(b *testing.B) {
	key := signerFor(b, ed25519Key())
	s := &Signer{Principal: "user:alice", Key: key}
	v := &Verifier{Keys: keysOf("user:alice", key.PublicKey()), Nonces: &MemoryNonces{}}
	body := []byte(`{"resource":"db-1","role":"admin","duration":"1h"}`)
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "https://ca.example/v1/requests", nil)
		if err := s.Sign(r, body); err != nil {
			b.Fatal(err)
		}
		if _, err := v.Verify(b.Context(), r, body); err != nil {
			b.Fatal(err)
		}
	}
}
