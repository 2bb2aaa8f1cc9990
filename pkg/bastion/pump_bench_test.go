package bastion

import (
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/recording"
)

// sshChannelPair opens one session channel over a real TCP connection
// with the bastion's ciphers and returns the server's end and the
// client's.
func sshChannelPair(tb testing.TB) (server, client ssh.Channel) {
	tb.Helper()
	hostKey := newKey(tb)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	algs := ssh.Config{Ciphers: DefaultCiphers, KeyExchanges: DefaultKeyExchanges}
	accepted := make(chan ssh.Channel, 1)
	go func() {
		defer close(accepted)
		c, err := l.Accept()
		if err != nil {
			return
		}
		cfg := &ssh.ServerConfig{NoClientAuth: true, Config: algs}
		cfg.AddHostKey(hostKey)
		sconn, chans, reqs, err := ssh.NewServerConn(coalesceWrites(c.(*net.TCPConn)), cfg)
		if err != nil {
			return
		}
		tb.Cleanup(func() { sconn.Close() })
		go ssh.DiscardRequests(reqs)
		ch, chReqs, err := (<-chans).Accept()
		if err != nil {
			return
		}
		go ssh.DiscardRequests(chReqs)
		accepted <- ch
	}()
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	cconn, chans, reqs, err := ssh.NewClientConn(coalesceWrites(conn.(*net.TCPConn)), l.Addr().String(),
		&ssh.ClientConfig{HostKeyCallback: ssh.InsecureIgnoreHostKey(), Config: algs, Timeout: 10 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	sc := ssh.NewClient(cconn, chans, reqs)
	tb.Cleanup(func() { sc.Close() })
	ch, chReqs, err := sc.OpenChannel("session", nil)
	if err != nil {
		tb.Fatal(err)
	}
	go ssh.DiscardRequests(chReqs)
	server = <-accepted
	if server == nil {
		tb.Fatal("the server did not accept the channel")
	}
	return server, ch
}

// cpuTime is this process's user and system CPU time so far.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPumpRecorded relays output as a session does: a target writes
// it in 32 KiB writes on a channel (as sshd does), pump copies it to the
// client's channel and hands it to the recorder, and the client reads
// it, every connection x/crypto/ssh over loopback TCP. One op is one MiB;
// cpu-ms/MiB is the whole process's CPU time (target, bastion and client
// alike) per MiB, which moves less than the wall time on a shared machine.
func BenchmarkPumpRecorded(b *testing.B) {
	for _, tc := range []struct {
		name  string
		chunk []byte
	}{
		// the line the integration benchmark's target prints with yes
		{"text", bytes.Repeat([]byte("lockbox bench: the quick brown fox jumps over the lazy dog 0123456789\n"), 1000)[:32<<10]},
		{"zeros", make([]byte, 32<<10)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			targetEnd, fromTarget := sshChannelPair(b)
			toClient, clientEnd := sshChannelPair(b)
			f, err := os.Create(filepath.Join(b.TempDir(), "rec.cast.gz"))
			if err != nil {
				b.Fatal(err)
			}
			w, err := recording.NewWriter(f, recording.Header{Width: 80, Height: 24}, recording.WriterOptions{})
			if err != nil {
				b.Fatal(err)
			}
			rec := newRecorder(w, func(err error) { b.Error(err) })
			const mib = 1 << 20
			b.SetBytes(mib)
			b.ReportAllocs()
			read := make(chan int64, 1)
			go func() {
				n, _ := io.Copy(io.Discard, clientEnd)
				read <- n
			}()
			pumped := make(chan error, 1)
			go func() { pumped <- pump(toClient, fromTarget, rec, 'o', nil) }()
			b.ResetTimer()
			start := cpuTime(b)
			for i := 0; i < b.N; i++ {
				for range mib / len(tc.chunk) {
					if _, err := targetEnd.Write(tc.chunk); err != nil {
						b.Fatal(err)
					}
				}
			}
			targetEnd.CloseWrite()
			if err := <-pumped; err != io.EOF {
				b.Fatal(err)
			}
			toClient.CloseWrite()
			if n := <-read; n != int64(b.N)*mib {
				b.Fatalf("the client read %d bytes, want %d", n, int64(b.N)*mib)
			}
			rec.close()
			b.StopTimer()
			b.ReportMetric(float64(cpuTime(b)-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/MiB")
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}
