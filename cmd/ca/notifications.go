package main

import (
	"github.com/lockbox-ssh/lockbox/pkg/notify/route"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
)

// loadPolicy loads the policy in dir and builds its notification
// endpoints once, so a secret that cannot be resolved is an error (with
// the endpoint's file and line) at check, start and reload, not at the
// first delivery.
func loadPolicy(dir string) (*policy.Policy, error) {
	p, err := policy.LoadDir(dir)
	if err != nil {
		return nil, err
	}
	if err := route.Check(p); err != nil {
		return nil, err
	}
	return p, nil
}
