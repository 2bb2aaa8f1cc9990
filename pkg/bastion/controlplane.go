package bastion

import (
	"context"
	"io"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// ControlPlane is what the bastion needs from the CA. *client.Client,
// signing as the bastion, implements it.
type ControlPlane interface {
	CheckMFA(ctx context.Context, user, code, clientAddr string) error
	// CheckSession says whether a session could start now (grant live and
	// the user's, resource in it, lease free) without taking or consuming
	// anything: the bastion asks before the TOTP code.
	CheckSession(ctx context.Context, in wire.SessionCheck) error
	StartSession(ctx context.Context, in wire.SessionStart) (*wire.SessionGrant, error)
	HopCertificate(ctx context.Context, requestID, resource, publicKey string) (*wire.Certificate, error)
	Heartbeat(ctx context.Context, ids []string) (map[string]wire.SessionStatus, error)
	// EndSession records a session's end and frees the user's lease.
	EndSession(ctx context.Context, id string, end wire.SessionEnd) error
	UploadRecording(ctx context.Context, id string, recording io.ReadSeeker) error
	// ReportRefusals hands the CA what the bastion refused, for its audit
	// log: people's refusals one by one, anonymous ones as counts.
	ReportRefusals(ctx context.Context, r wire.BastionRefusals) error
	// ReportBreakGlassSession reports a session opened with a break-glass
	// certificate while the CA was down (again changes nothing); a report
	// the CA refuses fails with the API code break_glass_refused.
	ReportBreakGlassSession(ctx context.Context, in wire.BreakGlassSession) error
}
