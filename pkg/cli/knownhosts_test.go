package cli

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

func hostCALine(t *testing.T) string {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := ssh.NewPublicKey(pub)
	return string(ssh.MarshalAuthorizedKey(k))
}

// During a host CA key rotation known_hosts trusts both keys, one
// @cert-authority line each, for the bastion's name only; a CA from
// before rotation (no host_cas) gets its one key.
func TestKnownHostsTrustsEveryHostCAKeyTheCALists(t *testing.T) {
	next, previous := hostCALine(t), hostCALine(t)
	for name, tt := range map[string]struct {
		keys wire.CAKeys
		want string
	}{
		"overlap": {wire.CAKeys{HostCA: next, HostCAs: []string{next, previous}},
			"@cert-authority [bastion.example.com]:2222 " + next + "@cert-authority [bastion.example.com]:2222 " + previous},
		"older CA": {wire.CAKeys{HostCA: next}, "@cert-authority [bastion.example.com]:2222 " + next},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				json.NewEncoder(w).Encode(tt.keys) //nolint:errcheck // test server
			}))
			defer srv.Close()
			cl, err := client.New(srv.URL, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "known_hosts")
			if err := writeKnownHosts(context.Background(), cl, path, "bastion.example.com", "2222"); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("known_hosts:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
