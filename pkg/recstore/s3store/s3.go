// Package s3store keeps session recordings in a bucket of an
// S3-compatible object store (AWS S3, MinIO, versitygw, Ceph RGW...), so
// that every CA replica reads and writes the same recordings without a
// shared filesystem. It implements recstore.Store with the minio-go
// client.
package s3store

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/encrypt"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/lockbox-ssh/lockbox/pkg/recstore"
)

// Config says where an S3 store keeps recordings and how it reaches
// them. The keys are given as values: the caller reads them from files or
// the environment (Credentials), never from the configuration itself.
type Config struct {
	Bucket string
	Prefix string // object names are PREFIX/SESSION.cast.gz
	// Endpoint is host[:port], or a URL whose scheme (http or https)
	// decides TLS; https when no scheme is given.
	Endpoint  string
	Region    string
	PathStyle bool // BUCKET in the path, not the host name
	AccessKey string
	SecretKey string
	// SessionToken goes with temporary keys.
	SessionToken string
	// CAFile, if set, holds the PEM certificates the endpoint's TLS
	// certificate must chain to, instead of the system's.
	CAFile string
	// SSE "s3" asks the store to encrypt each object with its own keys
	// (SSE-S3); empty leaves it to the bucket's default encryption.
	SSE string
	// Timeout bounds connecting, waiting for each answer, and a write to
	// the store that makes no progress (not a whole upload, which streams
	// as long as the body does). Default 30s.
	Timeout time.Duration
	// PartSize is the size of the parts an upload is sent in, and so how
	// much of each upload is held in memory. Default and minimum 5 MiB.
	PartSize uint64
}

// minPartSize is S3's smallest part but the last.
const minPartSize = 5 << 20

// Store keeps recordings as objects in a bucket of an S3-compatible object
// store. An upload streams in parts (multipart upload) that become the
// object only when the last is in, so an object is whole or absent; a
// failed upload is aborted.
type Store struct {
	c        *minio.Client
	bucket   string
	prefix   string
	sse      encrypt.ServerSide
	partSize uint64
	timeout  time.Duration
}

// ParseURL splits s3://BUCKET/PREFIX. ok is false for anything that
// does not start with s3://.
func ParseURL(s string) (bucket, prefix string, ok bool, err error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return "", "", false, nil
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if err := s3utils.CheckValidBucketNameStrict(bucket); err != nil {
		return "", "", true, fmt.Errorf("recordings %q: bucket name: %w", s, err)
	}
	prefix = strings.Trim(prefix, "/")
	for _, part := range strings.Split(prefix, "/") {
		if prefix != "" && (part == "" || part == "." || part == "..") {
			return "", "", true, fmt.Errorf("recordings %q: the prefix may not hold empty, . or .. parts", s)
		}
	}
	return bucket, prefix, true, nil
}

// Credentials reads the access and secret keys from the files named (a
// trailing newline is ignored), or if both are empty from the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN).
func Credentials(accessKeyFile, secretKeyFile string, getenv func(string) string) (access, secret, token string, err error) {
	if (accessKeyFile == "") != (secretKeyFile == "") {
		return "", "", "", errors.New("the access key file and the secret key file go together")
	}
	if accessKeyFile == "" {
		access, secret, token = getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SESSION_TOKEN")
		if access == "" || secret == "" {
			return "", "", "", errors.New("no S3 credentials: name an access key file and a secret key file, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
		}
		return access, secret, token, nil
	}
	read := func(path string) (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("S3 credentials: %w", err)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" || strings.ContainsAny(v, "\r\n") {
			return "", fmt.Errorf("S3 credentials: %s must hold one line, the key", path)
		}
		return v, nil
	}
	if access, err = read(accessKeyFile); err != nil {
		return "", "", "", err
	}
	if secret, err = read(secretKeyFile); err != nil {
		return "", "", "", err
	}
	return access, secret, "", nil
}

// Open makes an S3 store. It does not contact the store: Check does.
func Open(c Config) (*Store, error) {
	if err := s3utils.CheckValidBucketNameStrict(c.Bucket); err != nil {
		return nil, fmt.Errorf("S3 bucket name: %w", err)
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		return nil, errors.New("S3: no credentials")
	}
	host, secure := c.Endpoint, true
	if strings.Contains(host, "://") {
		u, err := url.Parse(host)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("S3 endpoint %q: want host[:port] or http(s)://host[:port]", c.Endpoint)
		}
		host, secure = u.Host, u.Scheme == "https"
	}
	if host == "" {
		return nil, errors.New("S3: no endpoint")
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.PartSize == 0 {
		c.PartSize = minPartSize
	}
	if c.PartSize < minPartSize {
		return nil, fmt.Errorf("S3 part size %d: at least %d", c.PartSize, minPartSize)
	}
	dialer := &net.Dialer{Timeout: c.Timeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &writeGuard{Conn: conn, timeout: c.Timeout}, nil
		},
		TLSHandshakeTimeout:   c.Timeout,
		ResponseHeaderTimeout: c.Timeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("S3 CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("S3 CA file %s: no PEM certificates", c.CAFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	lookup := minio.BucketLookupAuto
	if c.PathStyle {
		lookup = minio.BucketLookupPath
	}
	cl, err := minio.New(host, &minio.Options{
		Creds:        credentials.NewStaticV4(c.AccessKey, c.SecretKey, c.SessionToken),
		Secure:       secure,
		Region:       c.Region,
		BucketLookup: lookup,
		Transport:    tr,
		MaxRetries:   1, // the bastion retries a failed upload; the CA answers at once
	})
	if err != nil {
		return nil, fmt.Errorf("S3 client: %w", err)
	}
	s := &Store{c: cl, bucket: c.Bucket, prefix: strings.Trim(c.Prefix, "/"), partSize: c.PartSize, timeout: c.Timeout}
	switch c.SSE {
	case "":
	case "s3":
		s.sse = encrypt.NewSSE()
	default:
		return nil, fmt.Errorf("S3 sse %q: want s3 or nothing", c.SSE)
	}
	return s, nil
}

// Check asks the store whether the bucket is there: recstore.ErrUnavailable if
// the store cannot be reached or refuses, another error if it answers
// that there is no such bucket.
func (s *Store) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	ok, err := s.c.BucketExists(ctx, s.bucket)
	if err != nil {
		return s.storeErr("reaching bucket "+s.bucket, err)
	}
	if !ok {
		return fmt.Errorf("S3 bucket %s does not exist", s.bucket)
	}
	return nil
}

// Key is the object name of session id's recording.
func (s *Store) Key(id string) string {
	if s.prefix == "" {
		return id + ".cast.gz"
	}
	return s.prefix + "/" + id + ".cast.gz"
}

// Put streams r into the object of session id, PartSize bytes in memory
// at a time. An object is replaced only once the whole of r is in.
func (s *Store) Put(id string, r io.Reader, max int64) (int64, string, error) {
	if err := recstore.CheckID(id); err != nil {
		return 0, "", err
	}
	body := &bodyReader{r: r, max: max, h: sha256.New()}
	_, err := s.c.PutObject(context.Background(), s.bucket, s.Key(id), body, -1, minio.PutObjectOptions{
		ContentType: "application/gzip", PartSize: s.partSize, ServerSideEncryption: s.sse,
	})
	if body.err != nil {
		return 0, "", body.err // the body failed or was too large: the upload was aborted
	}
	if err != nil {
		return 0, "", s.storeErr("storing "+s.Key(id), err)
	}
	return body.n, hex.EncodeToString(body.h.Sum(nil)), nil
}

// Get opens the object of session id.
func (s *Store) Get(id string) (io.ReadCloser, error) {
	if err := recstore.CheckID(id); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	obj, err := s.c.GetObject(ctx, s.bucket, s.Key(id), minio.GetObjectOptions{})
	if err == nil {
		_, err = obj.Stat() // GetObject is lazy: this asks
	}
	if err != nil {
		cancel()
		if obj != nil {
			obj.Close()
		}
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return nil, fmt.Errorf("%w for %s", recstore.ErrNotFound, id)
		}
		return nil, s.storeErr("reading "+s.Key(id), err)
	}
	return &object{Object: obj, cancel: cancel}, nil
}

type object struct {
	*minio.Object
	cancel context.CancelFunc
}

func (o *object) Close() error {
	err := o.Object.Close()
	o.cancel()
	return err
}

// storeErr names the store's failure: recstore.ErrFull for an answer that there
// is no room, else recstore.ErrUnavailable.
func (s *Store) storeErr(what string, err error) error {
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.StatusCode == http.StatusInsufficientStorage, resp.Code == "InsufficientStorage", resp.Code == "QuotaExceeded",
		resp.Code == "XMinioStorageFull", resp.Code == "XMinioAdminBucketQuotaExceeded":
		return fmt.Errorf("%w: S3 %s: %w", recstore.ErrFull, what, err)
	}
	return fmt.Errorf("%w: S3 %s: %w", recstore.ErrUnavailable, what, err)
}

// bodyReader counts and hashes an upload's body, stops it past max
// bytes, and keeps the body's own error apart from the store's.
type bodyReader struct {
	r   io.Reader
	max int64
	n   int64
	h   hash.Hash
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if rem := b.max - b.n + 1; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > b.max {
		b.err = fmt.Errorf("%w: over %d bytes", recstore.ErrTooLarge, b.max)
		return 0, b.err
	}
	b.h.Write(p[:n])
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// writeGuard fails a write to the store that makes no progress for
// timeout, so a store that stops reading in the middle of a part cannot
// hold an upload, and its place among the CA's uploads, for ever. (Reads
// have no such deadline: an idle pooled connection waits in a read.)
type writeGuard struct {
	net.Conn
	timeout time.Duration
}

func (g *writeGuard) Write(p []byte) (int, error) {
	if err := g.Conn.SetWriteDeadline(time.Now().Add(g.timeout)); err != nil {
		return 0, err
	}
	return g.Conn.Write(p)
}
