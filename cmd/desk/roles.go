package main

import (
	"fmt"
	"net"

	"github.com/deskhq/desk/store"
	"github.com/deskhq/desk/tui"
)

// storeRoles is who the store holds to which role: the [[operators]], and
// the person at the machine (local), who owns the data directory, as a lead
// unless the config says otherwise. Anyone else (the mail intake, workers)
// is an operator.
func (c *Config) storeRoles(local string) map[string]store.Role {
	roles := map[string]store.Role{}
	for _, o := range c.Operators {
		if o.Role != "" {
			roles[o.Name] = store.Role(o.Role)
		} else {
			roles[o.Name] = store.RoleOperator
		}
	}
	if _, listed := roles[local]; !listed && local != "" {
		roles[local] = store.RoleLead
	}
	return roles
}

// tagPrefix is the ticket tag in mail subjects: the store makes it and the
// intake threads by it, so both must use the same one.
func (c *Config) tagPrefix() string {
	if c.Mail != nil && c.Mail.TagPrefix != "" {
		return c.Mail.TagPrefix
	}
	return "SD"
}

// directory is whom escalation steps reach, from the config: operators'
// addresses, the leads, the teams' addresses and the on-call roster.
func (c *Config) directory() store.Directory {
	d := store.Directory{Operators: map[string]string{}, Teams: map[string]string{}, Roster: c.Roster(),
		Services: c.storeServices(), Cadence: c.Cadence(), Webhook: c.Webhook.URL, StatusURL: c.statusURL()}
	d.Windows, _ = c.windowRules() // checked when the config was loaded
	for _, o := range c.Operators {
		d.Operators[o.Name] = o.Email
		if o.Role == Role(tui.RoleLead) {
			d.Leads = append(d.Leads, o.Name)
		}
	}
	for _, t := range c.Teams {
		if t.Address != "" {
			d.Teams[t.Name] = t.Address
		}
	}
	if c.Serve.Listen != "" {
		host, port, err := net.SplitHostPort(c.Serve.Listen)
		// A wildcard listen address names no host a reader could use.
		if err == nil && port != "" && host != "" && host != "0.0.0.0" && host != "::" {
			d.Console = fmt.Sprintf("ssh -p %s %s", port, host)
		}
	}
	return d
}

// bellOf is the operator's bell setting; nil leaves the console's default
// (on for operators and leads, off for viewers).
func (c *Config) bellOf(name string) *bool {
	for _, o := range c.Operators {
		if o.Name == name {
			return o.Bell
		}
	}
	return nil
}
