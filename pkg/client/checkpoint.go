package client

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// AuditCheckpoint returns the newest audit checkpoint the CA signed.
func (c *Client) AuditCheckpoint(ctx context.Context) (*wire.AuditCheckpoint, error) {
	var out wire.AuditCheckpoint
	return &out, c.do(ctx, http.MethodGet, "/v1/audit/checkpoint", nil, nil, &out)
}

// SignAuditCheckpoint asks the CA to sign a checkpoint of the audit head
// now (auditors).
func (c *Client) SignAuditCheckpoint(ctx context.Context) (*wire.AuditCheckpoint, error) {
	var out wire.AuditCheckpoint
	return &out, c.do(ctx, http.MethodPost, "/v1/audit/checkpoint", nil, struct{}{}, &out)
}

// AuditChain returns up to limit audit rows after seq as stored, ready
// for an audit.Verifier here: the client checks the chain itself.
func (c *Client) AuditChain(ctx context.Context, after int64, limit int) ([]audit.Record, error) {
	var out wire.AuditChain
	q := url.Values{"after": {strconv.FormatInt(after, 10)}, "limit": {strconv.Itoa(limit)}}
	if err := c.do(ctx, http.MethodGet, "/v1/audit/chain", q, nil, &out); err != nil {
		return nil, err
	}
	recs := make([]audit.Record, len(out.Records))
	for i, r := range out.Records {
		prev, err1 := hex.DecodeString(r.PrevHash)
		hash, err2 := hex.DecodeString(r.Hash)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("reading audit row %d from the CA: %w", r.Seq, err)
		}
		recs[i] = audit.Record{Seq: r.Seq, Time: r.Time, Actor: r.Actor, Action: r.Action, Subject: r.Subject,
			Detail: json.RawMessage(r.Detail), PrevHash: prev, Hash: hash}
	}
	return recs, nil
}
