// Command ha-lb is the load balancer of scripts/ha-demo.sh: a TCP proxy
// that hands each new connection to the next backend in turn, skipping
// any it cannot connect to. It is not sticky: consecutive connections of
// one client go to different backends. It prints "listening on ADDR"
// once it accepts connections. A demo tool, not for production.
//
//	ha-lb -listen 127.0.0.1:0 127.0.0.1:7001 127.0.0.1:7002
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	dialTimeout := flag.Duration("dial_timeout", time.Second, "how long to try one backend")
	flag.Parse()
	backends := flag.Args()
	if len(backends) == 0 {
		fmt.Fprintln(os.Stderr, "usage: ha-lb [-listen ADDR] BACKEND...")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	var next atomic.Uint64
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go proxy(c, backends, int(next.Add(1)), *dialTimeout)
	}
}

// proxy connects c to the first backend from start on that answers.
func proxy(c net.Conn, backends []string, start int, timeout time.Duration) {
	defer c.Close()
	var b net.Conn
	for i := range backends {
		addr := backends[(start+i)%len(backends)]
		var err error
		if b, err = net.DialTimeout("tcp", addr, timeout); err == nil {
			break
		}
		log.Printf("backend %s: %v; trying the next", addr, err)
	}
	if b == nil {
		log.Printf("no backend answers")
		return
	}
	defer b.Close()
	var wg sync.WaitGroup
	wg.Add(2)
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
	}
	go pipe(b, c)
	go pipe(c, b)
	wg.Wait()
}
