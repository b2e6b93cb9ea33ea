package main

import "github.com/deskhq/desk/store"

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
