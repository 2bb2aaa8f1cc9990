package bastion

import "golang.org/x/crypto/ssh"

// The default algorithms, offered to clients and used toward targets.
//
// Ciphers: AES-GCM only. A stock OpenSSH client takes chacha20-poly1305
// whenever the server offers it, and x/crypto's chacha20-poly1305 moves
// about 274 MiB/s against about 600 MiB/s for its AES-GCM on our test
// machines (AES-NI), so offering it would halve the bastion's throughput.
// AES-GCM is also the FIPS-approved choice. Key exchange: curve25519 (the
// best that OpenSSH 9.2 and x/crypto share), then NIST P-256. MACs only
// matter for non-AEAD ciphers, which are not offered; they are listed for
// completeness of the negotiation.
var (
	DefaultCiphers      = []string{ssh.CipherAES128GCM, ssh.CipherAES256GCM}
	DefaultKeyExchanges = []string{ssh.KeyExchangeCurve25519, ssh.KeyExchangeECDHP256}
	DefaultMACs         = []string{ssh.HMACSHA256ETM, ssh.HMACSHA512ETM}
)
