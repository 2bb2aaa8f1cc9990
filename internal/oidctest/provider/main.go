// Command provider is a small OpenID Connect provider for Lockbox's
// tests, on zitadel/oidc's certified op package: one confidential client,
// static users with passwords and groups, a plain HTML login form, and
// the authorization code flow with PKCE. It keeps everything in memory.
//
// It prints "listening on ADDR" once it serves. POST /control changes
// what the next ID tokens look like, so that tests can make the
// provider misbehave the way a hostile or broken one would:
// audience=NAME (empty: the client's ID) and id_token_lifetime=DURATION
// (negative: already expired).
//
//	provider -client-id lockbox -client-secret S -redirect http://CA/ui/login/sso/callback \
//	    -user 'carol:password:mfa:Security Team,sre' -user 'dave:password::sre'
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

type userList []string

func (u *userList) String() string     { return strings.Join(*u, " ") }
func (u *userList) Set(v string) error { *u = append(*u, v); return nil }

func main() {
	var users userList
	addr := flag.String("listen", "127.0.0.1:0", "address to listen on")
	clientID := flag.String("client-id", "lockbox", "the one client's ID")
	secret := flag.String("client-secret", "", "the client's secret")
	redirect := flag.String("redirect", "", "the client's redirect URI")
	flag.Var(&users, "user", "NAME:PASSWORD:AMR:GROUPS (AMR: mfa or empty; GROUPS comma-separated); repeatable")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*addr, *clientID, *secret, *redirect, users, log); err != nil {
		log.Error("provider", "err", err)
		os.Exit(1)
	}
}

func run(addr, clientID, secret, redirect string, users []string, log *slog.Logger) error {
	if secret == "" || redirect == "" {
		return fmt.Errorf("-client-secret and -redirect are required")
	}
	st, err := newStorage(clientID, secret, redirect)
	if err != nil {
		return err
	}
	for _, u := range users {
		if err := st.addUser(u); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	issuer := "http://" + ln.Addr().String()
	var key [32]byte
	rand.Read(key[:]) //nolint:errcheck // crypto/rand.Read never fails
	provider, err := op.NewProvider(&op.Config{CryptoKey: key, CodeMethodS256: true, AuthMethodPost: true,
		SupportedUILocales: []language.Tag{language.English}}, st, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		return err
	}
	intercept := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	l := &login{st: st, callback: op.AuthCallbackURL(provider)}
	mux := http.NewServeMux()
	mux.Handle("GET /login", intercept.HandlerFunc(l.page))
	mux.Handle("POST /login", intercept.HandlerFunc(l.check))
	mux.HandleFunc("POST /control", st.control)
	mux.Handle("/oauth/token", st.rewriteAudience(provider))
	mux.Handle("/", provider)
	srv := &http.Server{Handler: mux}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		srv.Close()
	}()
	fmt.Printf("listening on %s\n", ln.Addr())
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

func newKey() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) }
