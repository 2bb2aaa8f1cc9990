package api_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// floodEnv, when set, makes the test binary a flood process instead of
// running tests: "URL CALLS CLIENTS SPREAD REUSE FROM" (see
// floodProcess). floodProfileEnv, when set too, is where each flood
// process writes its CPU profile (the path, a dot and its process ID).
const (
	floodEnv        = "LOCKBOX_BENCH_FLOOD"
	floodCPUEnv     = "LOCKBOX_BENCH_FLOOD_CPU" // the one CPU the flood process runs on, if set
	floodProfileEnv = "LOCKBOX_BENCH_FLOOD_CPUPROFILE"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(floodEnv); spec != "" {
		os.Exit(floodProcess(spec))
	}
	os.Exit(m.Run())
}

// floodResult is what a flood process prints when it is done: how many
// calls it attempted, how many were answered 401, how many connections
// were closed before a status line (refused at accept by a penalty), and
// how many got anything else (another status, a broken answer, a failed
// dial). An attempt the end of the flood cut short is not counted.
type floodResult struct {
	Attempts, Refused, Closed, Other int64
}

func (r floodResult) String() string {
	return fmt.Sprint(r.Attempts, r.Refused, r.Closed, r.Other)
}

// parseFloodResult reads what floodProcess printed.
func parseFloodResult(out string) (floodResult, error) {
	var r floodResult
	if _, err := fmt.Sscan(out, &r.Attempts, &r.Refused, &r.Closed, &r.Other); err != nil {
		return r, fmt.Errorf("flood process said %q: %w", out, err)
	}
	return r, nil
}

// floodProcess attempts CALLS unsigned GETs of URL from CLIENTS clients,
// spread evenly over SPREAD, until done or its standard input closes;
// then it prints its floodResult. FROM is the local address it dials
// from ("-": the system's choice): 127.0.0.2 reaches a server on
// 127.0.0.1 from another source than the server's exempt loopback.
//
// It is what an attacker's client costs, not a general HTTP client: each
// client writes one pre-built HTTP/1.1 request and reads the status line,
// the headers up to Content-Length and that many bytes of body. With REUSE
// a client keeps one connection open for its calls (keepalive) until the
// server closes it (Connection: close, or closed before an answer);
// without, it dials for every call and closes once answered, as curl run
// once per call does. A connection closed before a status line (a
// penalised source's, closed at accept) is a refusal, and the client
// dials again at its next call. It runs on one thread (GOMAXPROCS 1), as
// an event loop like curl's or wrk's would, so that the Go scheduler's
// spinning between threads is not counted as the flood's cost.
func floodProcess(spec string) int {
	f := strings.Fields(spec)
	if len(f) != 6 {
		fmt.Fprintf(os.Stderr, "%s: want URL CALLS CLIENTS SPREAD REUSE FROM, got %q\n", floodEnv, spec)
		return 2
	}
	u, err0 := url.Parse(f[0])
	calls, err1 := strconv.Atoi(f[1])
	clients, err2 := strconv.Atoi(f[2])
	spread, err3 := time.ParseDuration(f[3])
	reuse, err4 := strconv.ParseBool(f[4])
	var from net.Addr
	var err5 error
	if f[5] != "-" {
		var ip netip.Addr
		ip, err5 = netip.ParseAddr(f[5])
		from = net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, 0))
	}
	if err0 != nil || err1 != nil || err2 != nil || err3 != nil || err4 != nil || err5 != nil || clients <= 0 || u.Scheme != "http" {
		fmt.Fprintf(os.Stderr, "%s: bad value in %q\n", floodEnv, spec)
		return 2
	}
	runtime.GOMAXPROCS(1)
	if v := os.Getenv(floodCPUEnv); v != "" {
		cpu, err := strconv.Atoi(v)
		if err == nil {
			_, err = pinProcess(cpu)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "flood: %s=%q: %v\n", floodCPUEnv, v, err)
			return 2
		}
	}
	if path := os.Getenv(floodProfileEnv); path != "" {
		pf, err := os.Create(path + "." + strconv.Itoa(os.Getpid()))
		if err != nil {
			fmt.Fprintln(os.Stderr, "flood:", err)
			return 2
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			fmt.Fprintln(os.Stderr, "flood:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		io.Copy(io.Discard, os.Stdin) //nolint:errcheck // any end of stdin stops the flood
		stop()
	}()
	request := []byte("GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: flood\r\nAccept: */*\r\n\r\n")
	var attempts, refused, closed, other atomic.Int64
	var wg sync.WaitGroup
	per := calls / clients
	dialer := net.Dialer{LocalAddr: from, Control: bindNoPort}
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c *floodConn
			defer func() { c.close() }()
			tick := time.NewTicker(max(spread/time.Duration(per), time.Microsecond))
			defer tick.Stop()
			for range per {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				if c == nil {
					conn, err := dialer.Dial("tcp", u.Host)
					if err != nil {
						if ctx.Err() != nil {
							return
						}
						fmt.Fprintln(os.Stderr, "flood:", err)
						attempts.Add(1)
						other.Add(1)
						continue
					}
					c = &floodConn{conn: conn, rd: bufio.NewReaderSize(conn, 4096)}
				}
				status, closes, err := c.call(request)
				if err != nil && ctx.Err() != nil {
					return // cut short by the end of the flood
				}
				attempts.Add(1)
				switch {
				case err != nil && status == 0 && !errors.Is(err, errFloodAnswer):
					closed.Add(1) // closed before a status line: refused at accept
				case err != nil:
					fmt.Fprintln(os.Stderr, "flood:", err)
					other.Add(1)
				case status == 401:
					refused.Add(1)
				default:
					other.Add(1)
				}
				if err != nil || closes || !reuse {
					c.close()
					c = nil
				}
			}
		}()
	}
	wg.Wait()
	fmt.Println(floodResult{attempts.Load(), refused.Load(), closed.Load(), other.Load()})
	return 0
}

// bindNoPort lets a dial from a given address (FROM) leave the choice of
// its port to connect, as a dial from no given address does (Linux's
// IP_BIND_ADDRESS_NO_PORT): otherwise bind picks a port no socket holds,
// not even one in TIME_WAIT to another peer, and its search grows with
// them, a cost of the benchmark's dialing from a chosen loopback address
// that no attacker's client pays.
func bindNoPort(network, _ string, c syscall.RawConn) error {
	if runtime.GOOS != "linux" || network != "tcp4" {
		return nil
	}
	const ipBindAddressNoPort = 24 // linux/in.h
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
	}); err != nil {
		return err
	}
	return serr
}

// floodConn is one connection of a flood client and its read buffer.
type floodConn struct {
	conn net.Conn
	rd   *bufio.Reader
}

func (c *floodConn) close() {
	if c != nil {
		c.conn.Close()
	}
}

var errFloodAnswer = errors.New("flood: answer is not HTTP/1.1 with a Content-Length")

// call writes request and reads its answer, returning the status code
// and whether the server closes the connection after it (Connection:
// close). An error before the status line comes with status 0; after it,
// with the status.
func (c *floodConn) call(request []byte) (status int, closes bool, err error) {
	if _, err := c.conn.Write(request); err != nil {
		return 0, false, err
	}
	line, err := c.rd.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, false, errFloodAnswer
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, errFloodAnswer
	}
	length := -1
	for {
		line, err := c.rd.ReadSlice('\n')
		if err != nil {
			return status, false, err
		}
		if len(line) <= 2 { // "\r\n" ends the headers
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		switch {
		case !ok:
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return status, false, errFloodAnswer
			}
		case bytes.EqualFold(name, []byte("Connection")):
			closes = bytes.EqualFold(bytes.TrimSpace(value), []byte("close"))
		}
	}
	if length < 0 {
		return status, false, errFloodAnswer
	}
	if _, err := c.rd.Discard(length); err != nil {
		return status, false, err
	}
	return status, closes, nil
}
