package api_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// floodEnv, when set, makes the test binary a flood process instead of
// running tests: "URL CALLS CLIENTS SPREAD REUSE" (see floodProcess).
// floodProfileEnv, when set too, is where each flood process writes its
// CPU profile (the path, a dot and its process ID).
const (
	floodEnv        = "LOCKBOX_BENCH_FLOOD"
	floodProfileEnv = "LOCKBOX_BENCH_FLOOD_CPUPROFILE"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(floodEnv); spec != "" {
		os.Exit(floodProcess(spec))
	}
	os.Exit(m.Run())
}

// floodProcess sends CALLS unsigned GETs of URL from CLIENTS clients,
// spread evenly over SPREAD, until done or its standard input closes;
// then it prints how many were answered and how many of those were 401.
//
// It is what an attacker's client costs, not a general HTTP client: each
// client writes one pre-built HTTP/1.1 request and reads the status line,
// the headers up to Content-Length and that many bytes of body. With REUSE
// a client keeps one connection open for all its calls (keepalive);
// without, it dials for every call and closes once answered, as curl run
// once per call does. It runs on one thread (GOMAXPROCS 1), as an event
// loop like curl's or wrk's would, so that the Go scheduler's spinning
// between threads is not counted as the flood's cost.
func floodProcess(spec string) int {
	f := strings.Fields(spec)
	if len(f) != 5 {
		fmt.Fprintf(os.Stderr, "%s: want URL CALLS CLIENTS SPREAD REUSE, got %q\n", floodEnv, spec)
		return 2
	}
	u, err0 := url.Parse(f[0])
	calls, err1 := strconv.Atoi(f[1])
	clients, err2 := strconv.Atoi(f[2])
	spread, err3 := time.ParseDuration(f[3])
	reuse, err4 := strconv.ParseBool(f[4])
	if err0 != nil || err1 != nil || err2 != nil || err3 != nil || err4 != nil || clients <= 0 || u.Scheme != "http" {
		fmt.Fprintf(os.Stderr, "%s: bad value in %q\n", floodEnv, spec)
		return 2
	}
	runtime.GOMAXPROCS(1)
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
	var answered, refused atomic.Int64
	var wg sync.WaitGroup
	per := calls / clients
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
					var err error
					if c, err = dialFlood(u.Host); err != nil {
						fmt.Fprintln(os.Stderr, "flood:", err)
						return
					}
				}
				status, err := c.call(request)
				if err != nil {
					if ctx.Err() == nil {
						fmt.Fprintln(os.Stderr, "flood:", err)
					}
					return
				}
				answered.Add(1)
				if status == 401 {
					refused.Add(1)
				}
				if !reuse {
					c.close()
					c = nil
				}
			}
		}()
	}
	wg.Wait()
	fmt.Println(answered.Load(), refused.Load())
	return 0
}

// floodConn is one connection of a flood client and its read buffer.
type floodConn struct {
	conn net.Conn
	rd   *bufio.Reader
}

func dialFlood(addr string) (*floodConn, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &floodConn{conn: conn, rd: bufio.NewReaderSize(conn, 4096)}, nil
}

func (c *floodConn) close() {
	if c != nil {
		c.conn.Close()
	}
}

var errFloodAnswer = errors.New("flood: answer is not HTTP/1.1 with a Content-Length")

// call writes request and reads its answer, returning the status code.
func (c *floodConn) call(request []byte) (int, error) {
	if _, err := c.conn.Write(request); err != nil {
		return 0, err
	}
	line, err := c.rd.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, errFloodAnswer
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, errFloodAnswer
	}
	length := -1
	for {
		line, err := c.rd.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(line) <= 2 { // "\r\n" ends the headers
			break
		}
		if name, value, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return 0, errFloodAnswer
			}
		}
	}
	if length < 0 {
		return 0, errFloodAnswer
	}
	if _, err := c.rd.Discard(length); err != nil {
		return 0, err
	}
	return status, nil
}
