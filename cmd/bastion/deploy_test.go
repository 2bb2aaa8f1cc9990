package main

import (
	"reflect"
	"testing"

	"github.com/spf13/pflag"
)

// The example config in deploy/ loads through the real loader, and it
// shows the defaults: it loads to the same configuration as no file.
func TestDeployExampleConfigLoads(t *testing.T) {
	load := func(args ...string) *config {
		t.Helper()
		f := pflag.NewFlagSet("serve", pflag.ContinueOnError)
		addFlags(f)
		if err := f.Parse(args); err != nil {
			t.Fatal(err)
		}
		c, err := loadConfig(f)
		if err != nil {
			t.Fatalf("loadConfig(%v): %v", args, err)
		}
		return c
	}
	got := load("--config", "../../deploy/bastion.yaml")
	if want := load(); !reflect.DeepEqual(got, want) {
		t.Errorf("deploy/bastion.yaml loads to\n%+v\nwant the defaults\n%+v", got, want)
	}
}
