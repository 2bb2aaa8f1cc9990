package workflow

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/metrics"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Certificates are built and signed outside the store's writer (it is one
// goroutine), then recorded in a transaction that checks again, with the
// row locked, that the grant is still live: a revocation that lands in
// between wins.

// IssueUserCert signs a grant certificate for pub, which the requester made
// for this grant. The client chooses nothing but the key: principals,
// options and validity come from the approved grant and the role. A grant
// that no longer fits the current policy (policy.Recheck) gets none; nor
// does a scheduled grant before its window opens (ErrNotYetOpen, saying
// when). The certificate is valid from the window's start, less the skew
// allowance. For a role with step_up_mfa, code is the requester's fresh
// TOTP code, checked and spent in the transaction that records the
// certificate.
func (s *Service) IssueUserCert(ctx context.Context, actor Actor, id string, pub ssh.PublicKey, code StepUp) (*ssh.Certificate, error) {
	const refused = "cert.refused"
	if err := sshcert.CheckSubjectKey(pub); err != nil {
		return nil, s.RecordRefusal(ctx, actor, refused, id, fmt.Errorf("%w: %w", ErrBadInput, err))
	}
	return s.issueRetrying(ctx, actor, refused, id, func(r *store.Request) (*ssh.Certificate, error) {
		return s.issueUser(ctx, actor, refused, r, pub, code)
	})
}

func (s *Service) issueUser(ctx context.Context, actor Actor, refused string, r *store.Request, pub ssh.PublicKey, code StepUp) (*ssh.Certificate, error) {
	if actor.User() != r.User || !actor.IsUser() {
		return nil, s.RecordRefusal(ctx, actor, refused, r.ID, fmt.Errorf("%w: %s is %s's grant", ErrForbidden, r.ID, r.User))
	}
	p := s.policy()
	if err := s.recheckGrant(ctx, actor, refused, p, r); err != nil {
		return nil, err
	}
	role := p.Roles[r.Role]
	principals := make([]string, len(r.Resources))
	for i, res := range r.Resources {
		principals[i] = sshcert.Principal(r.Role, res)
	}
	spec := sshcert.UserSpec{
		KeyID:        fmt.Sprintf("%s/%s", r.User, r.ID),
		Principals:   principals,
		ForceCommand: role.CertForceCommand(),
		PermitPTY:    role.Interactive,
		ValidAfter:   r.NotBefore.Add(-s.cfg.Skew),
		ValidBefore:  r.NotAfter,
	}
	var stepUp *StepUp
	if role.StepUpMFA {
		stepUp = &code
	}
	return s.issue(ctx, actor, refused, r, pub, spec, store.UserCert, s.keys.Load().UserCA, stepUp)
}

// IssueHopCert signs the certificate a bastion uses toward resource for
// one session of grant id, for an ephemeral key it made for that session.
// Only registered bastions may ask; the certificate carries the bastion's
// egress addresses as source-address and lasts HopTTL (a few minutes: the
// bastion logs in with it once, at once), never past the grant's end. A
// grant that no longer fits the current policy gets none.
func (s *Service) IssueHopCert(ctx context.Context, actor Actor, id, resource string, pub ssh.PublicKey) (*ssh.Certificate, error) {
	const refused = "hopcert.refused"
	p := s.policy()
	b := p.Bastions[actor.Bastion()]
	if b == nil {
		return nil, s.RecordRefusal(ctx, actor, refused, id, fmt.Errorf("%w: %s", ErrNotBastion, actor))
	}
	if err := sshcert.CheckSubjectKey(pub); err != nil {
		return nil, s.RecordRefusal(ctx, actor, refused, id, fmt.Errorf("%w: %w", ErrBadInput, err))
	}
	return s.issueRetrying(ctx, actor, refused, id, func(r *store.Request) (*ssh.Certificate, error) {
		return s.issueHop(ctx, actor, refused, p, b, r, resource, pub)
	})
}

func (s *Service) issueHop(ctx context.Context, actor Actor, refused string, p *policy.Policy, b *policy.Bastion, r *store.Request,
	resource string, pub ssh.PublicKey) (*ssh.Certificate, error) {
	if !slices.Contains(r.Resources, resource) {
		return nil, s.RecordRefusal(ctx, actor, refused, r.ID, fmt.Errorf("%w: %s is not in %s", ErrNotInGrant, resource, r.ID))
	}
	if err := s.recheckGrant(ctx, actor, refused, p, r); err != nil {
		return nil, err
	}
	role := p.Roles[r.Role]
	now := s.now()
	until := r.NotAfter
	if cap := now.Add(s.cfg.HopTTL); cap.Before(until) {
		until = cap
	}
	spec := sshcert.UserSpec{
		KeyID:         fmt.Sprintf("hop/%s/%s/%s/%s", b.Name, r.User, r.ID, resource),
		Principals:    []string{sshcert.Principal(r.Role, resource)},
		ForceCommand:  role.CertForceCommand(),
		SourceAddress: prefixStrings(b.Egress),
		PermitPTY:     role.Interactive,
		ValidAfter:    now.Add(-s.cfg.Skew),
		ValidBefore:   until,
	}
	return s.issue(ctx, actor, refused, r, pub, spec, store.HopCert, s.keys.Load().HopCA, nil)
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// errGrantChanged: the grant's locked row is not the copy its certificate
// was built from (a hint gone stale, or a change between the read and the
// lock); the issuance starts again from a fresh read.
var errGrantChanged = errors.New("the grant changed while its certificate was made")

// maxIssueAttempts bounds the fresh reads of one issuance whose grant
// keeps changing under it.
const maxIssueAttempts = 3

// issueRetrying runs issue for grant id: first with the grant's hint, if
// there is a live one (granthint.go), then with fresh reads, while the
// locked row turns out to differ from the copy issue built on.
func (s *Service) issueRetrying(ctx context.Context, actor Actor, refused, id string,
	issue func(r *store.Request) (*ssh.Certificate, error)) (*ssh.Certificate, error) {
	if r := s.grants.get(id); r != nil && notLive(r, s.now()) == nil {
		cert, err := issue(r)
		if !errors.Is(err, errGrantChanged) {
			return cert, err
		}
	}
	s.grants.drop(id)
	for range maxIssueAttempts {
		r, err := s.grantFor(ctx, actor, refused, id)
		if err != nil {
			return nil, err
		}
		cert, err := issue(r)
		if !errors.Is(err, errGrantChanged) {
			return cert, err
		}
	}
	return nil, fmt.Errorf("%w: %s changed %d times while its certificate was made", store.ErrConflict, id, maxIssueAttempts)
}

// grantFor reads request id and checks that it is a live grant.
func (s *Service) grantFor(ctx context.Context, actor Actor, refused, id string) (*store.Request, error) {
	var r *store.Request
	err := s.cfg.Store.View(ctx, func(tx store.Tx) (err error) {
		r, err = tx.Request(id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, s.RecordRefusal(ctx, actor, refused, id, fmt.Errorf("%w: %s", ErrNotFound, id))
	}
	if err != nil {
		return nil, err
	}
	if why := notLive(r, s.now()); why != nil {
		return nil, s.RecordRefusal(ctx, actor, refused, id, why)
	}
	return r, nil
}

// issue signs spec and records the certificate, if the grant is still
// live when the record commits and, when code is not nil (the role asks
// for step-up), the code is good.
func (s *Service) issue(ctx context.Context, actor Actor, refused string, r *store.Request, pub ssh.PublicKey,
	spec sshcert.UserSpec, kind store.CertKind, ca ssh.Signer, code *StepUp) (*ssh.Certificate, error) {
	serial, err := sshcert.NewSerial(s.cfg.Rand)
	if err != nil {
		return nil, err
	}
	spec.Serial = serial
	cert, err := sshcert.UserCertificate(pub, spec)
	if err != nil {
		return nil, fmt.Errorf("building the certificate for %s: %w", r.ID, err)
	}
	if err := sshcert.Sign(cert, ca, s.cfg.Rand); err != nil {
		return nil, fmt.Errorf("signing the certificate for %s: %w", r.ID, err)
	}
	// The certificate's text, made once for its audit record and its kept
	// answer, and outside the store's writer, which runs the transaction.
	issued := &IssuedCert{Cert: cert, AuthorizedKey: ssh.MarshalAuthorizedKey(cert)}
	rec := &store.Certificate{
		Serial: serial, Kind: kind, RequestID: r.ID, User: r.User, Bastion: actor.Bastion(), KeyID: spec.KeyID,
		Principals: spec.Principals, Fingerprint: ssh.FingerprintSHA256(pub),
		ValidAfter: spec.ValidAfter, ValidBefore: spec.ValidBefore,
	}
	// The audit record's detail and the answer to keep are made before the
	// transaction too: neither depends on what it reads, and the writer
	// runs one transaction at a time.
	detail, err := audit.EncodeDetail(map[string]any{
		"serial": fmt.Sprint(serial), "key_id": spec.KeyID, "principals": spec.Principals,
		"valid_after": spec.ValidAfter.UTC(), "valid_before": spec.ValidBefore.UTC(),
		"fingerprint": rec.Fingerprint, "force_command": spec.ForceCommand,
		"source_address": spec.SourceAddress, "permit_pty": spec.PermitPTY,
		// The certificate itself, so that evidence of the grant can
		// show it checks against the CA's public key.
		"certificate": strings.TrimSpace(string(issued.AuthorizedKey)),
	})
	if err != nil {
		return nil, err
	}
	if err := s.prepareAnswer(ctx, issued); err != nil {
		return nil, err
	}
	err = s.update(ctx, func(tx store.Tx) error {
		setResult(ctx, issued)
		now := s.now()
		cur, err := tx.LockRequest(r.ID)
		if err != nil {
			return err
		}
		if why := notLive(cur, now); why != nil {
			s.grants.drop(r.ID)
			return s.refuse(tx, actor, refused, r.ID, why, nil)
		}
		if !sameGrant(r, cur) {
			return errGrantChanged
		}
		if code != nil {
			if err := s.stepUp(tx, actor, refused, cur, *code); err != nil {
				return err
			}
		}
		rec.IssuedAt = now
		if err := tx.AddCertificate(rec); err != nil {
			return err
		}
		return recordEncoded(tx, audit.Event{Time: now, Actor: string(actor), Action: string(kind) + "cert.issued", Subject: r.ID}, detail)
	})
	if err != nil {
		return nil, err
	}
	if s.grants.get(r.ID) != r {
		s.grants.put(r) // it matched the locked row
	}
	metrics.Issued.WithLabelValues(string(kind)).Inc()
	return cert, nil
}

// IssuedCert is what an issuance gives a kept answer to render (Claim
// Render): the certificate, and its text in authorized_keys form as
// ssh.MarshalAuthorizedKey makes it.
type IssuedCert struct {
	Cert          *ssh.Certificate
	AuthorizedKey []byte
}

// IssueHostCert signs a host certificate (for the bastion or a target) with
// the host CA. It is an operator's action, run on the CA host.
func (s *Service) IssueHostCert(ctx context.Context, operator string, pub ssh.PublicKey, hostnames []string, validity time.Duration) (*ssh.Certificate, error) {
	hostCA := s.keys.Load().HostCA
	if hostCA == nil {
		return nil, errors.New("no host CA key loaded")
	}
	if len(hostnames) == 0 || validity <= 0 {
		return nil, fmt.Errorf("%w: a host certificate needs a host name and a positive validity", ErrBadInput)
	}
	serial, err := sshcert.NewSerial(s.cfg.Rand)
	if err != nil {
		return nil, err
	}
	now := s.now()
	spec := sshcert.HostSpec{Serial: serial, KeyID: "host/" + hostnames[0], Hostnames: hostnames,
		ValidAfter: now.Add(-s.cfg.Skew), ValidBefore: now.Add(validity)}
	cert, err := sshcert.HostCertificate(pub, spec)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	if err := sshcert.Sign(cert, hostCA, s.cfg.Rand); err != nil {
		return nil, err
	}
	err = s.update(ctx, func(tx store.Tx) error {
		return record(tx, audit.Event{Time: now, Actor: "operator:" + operator, Action: "hostcert.issued", Subject: hostnames[0],
			Detail: map[string]any{"serial": fmt.Sprint(serial), "hostnames": hostnames, "fingerprint": ssh.FingerprintSHA256(pub),
				"valid_before": spec.ValidBefore}})
	})
	if err != nil {
		return nil, err
	}
	return cert, nil
}

// KRL returns an OpenSSH key revocation list of every still-valid
// certificate of a revoked grant: grant certificates under the user CA
// (for the bastion) and hop certificates under the hop CA (for targets'
// RevokedKeys). During a key rotation each serial is listed under both
// keys of its CA: the store does not say which key signed a certificate,
// and serials are unique across the CA, so listing one under the other key
// revokes nothing else.
func (s *Service) KRL(ctx context.Context) ([]byte, error) {
	now := s.now()
	var user, hop []uint64
	err := s.cfg.Store.View(ctx, func(tx store.Tx) (err error) {
		if user, err = tx.RevokedSerials(store.UserCert, now); err != nil {
			return err
		}
		hop, err = tx.RevokedSerials(store.HopCert, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading revoked certificates: %w", err)
	}
	keys := s.keys.Load()
	var sections []sshcert.KRLSection
	for _, k := range keys.UserKeys() {
		sections = append(sections, sshcert.KRLSection{CA: k, Serials: user})
	}
	for _, k := range keys.HopKeys() {
		sections = append(sections, sshcert.KRLSection{CA: k, Serials: hop})
	}
	return sshcert.MarshalKRL(uint64(now.Unix()), now, "lockbox", sections), nil
}
