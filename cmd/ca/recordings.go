package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/recstore"
	"github.com/lockbox-ssh/lockbox/pkg/recstore/s3store"
)

// s3Config is recordings_s3: how to reach the bucket that recordings:
// s3://BUCKET/PREFIX names. The keys come from files or the environment,
// never from the configuration itself.
type s3Config struct {
	Endpoint      string        `mapstructure:"endpoint"`
	Region        string        `mapstructure:"region"`
	PathStyle     bool          `mapstructure:"path_style"`
	AccessKeyFile string        `mapstructure:"access_key_file"`
	SecretKeyFile string        `mapstructure:"secret_key_file"`
	CAFile        string        `mapstructure:"ca_file"`
	SSE           string        `mapstructure:"sse"`
	Timeout       time.Duration `mapstructure:"timeout"`
}

// openRecordings opens the recording store: a bucket for s3://BUCKET/PREFIX,
// else a local directory. A bucket the store says does not exist stops
// the CA; one it cannot reach now is only logged, since uploads wait in
// the bastions' spools until it is back.
func openRecordings(cfg *config, log *slog.Logger) (recstore.Store, error) {
	bucket, prefix, isS3, err := s3store.ParseURL(cfg.Recordings)
	if err != nil {
		return nil, err
	}
	if !isS3 {
		return recstore.Open(cfg.Recordings)
	}
	c := cfg.RecordingsS3
	if c.Endpoint == "" {
		return nil, errors.New("recordings_s3.endpoint is required for s3:// recordings")
	}
	access, secret, token, err := s3store.Credentials(c.AccessKeyFile, c.SecretKeyFile, os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("recordings_s3: %w", err)
	}
	s, err := s3store.Open(s3store.Config{Bucket: bucket, Prefix: prefix, Endpoint: c.Endpoint, Region: c.Region,
		PathStyle: c.PathStyle, AccessKey: access, SecretKey: secret, SessionToken: token, CAFile: c.CAFile, SSE: c.SSE, Timeout: c.Timeout})
	if err != nil {
		return nil, fmt.Errorf("recordings_s3: %w", err)
	}
	err = s.Check(context.Background())
	if errors.Is(err, recstore.ErrUnavailable) {
		log.Warn("the recordings bucket cannot be reached now; uploads fail (bastions keep them and retry) and replays are refused until it can", "bucket", bucket, "err", err)
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("recordings: %w", err)
	}
	return s, nil
}
