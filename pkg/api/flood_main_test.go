package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// floodEnv, when set, makes the test binary a flood process instead of
// running tests: "URL CALLS CLIENTS SPREAD REUSE" (see floodProcess).
const floodEnv = "LOCKBOX_BENCH_FLOOD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(floodEnv); spec != "" {
		os.Exit(floodProcess(spec))
	}
	os.Exit(m.Run())
}

// floodProcess sends CALLS unsigned GETs to URL from CLIENTS clients,
// spread evenly over SPREAD, reusing connections if REUSE, until done or
// its standard input closes; then it prints how many it sent.
func floodProcess(spec string) int {
	f := strings.Fields(spec)
	if len(f) != 5 {
		fmt.Fprintf(os.Stderr, "%s: want URL CALLS CLIENTS SPREAD REUSE, got %q\n", floodEnv, spec)
		return 2
	}
	calls, err1 := strconv.Atoi(f[1])
	clients, err2 := strconv.Atoi(f[2])
	spread, err3 := time.ParseDuration(f[3])
	reuse, err4 := strconv.ParseBool(f[4])
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || clients <= 0 {
		fmt.Fprintf(os.Stderr, "%s: bad value in %q\n", floodEnv, spec)
		return 2
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		io.Copy(io.Discard, os.Stdin) //nolint:errcheck // any end of stdin stops the flood
		stop()
	}()
	var sent atomic.Int64
	var wg sync.WaitGroup
	per := calls / clients
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(max(spread/time.Duration(per), time.Microsecond))
			defer tick.Stop()
			for range per {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				resp, err := http.Get(f[0])
				if err != nil {
					if ctx.Err() == nil {
						fmt.Fprintln(os.Stderr, "flood:", err)
					}
					return
				}
				if reuse {
					io.Copy(io.Discard, resp.Body) //nolint:errcheck // drained so the connection is reused
				}
				resp.Body.Close() // undrained: the connection is closed
				sent.Add(1)
			}
		}()
	}
	wg.Wait()
	fmt.Println(sent.Load())
	return 0
}
