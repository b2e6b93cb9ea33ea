package main

import (
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// ServiceConfig is one [[services]] table: a service the desk supports,
// who hears of its major incidents, and which new mail is about it.
type ServiceConfig struct {
	Name        string `toml:"name"`
	Description string `toml:"description"`
	Team        string `toml:"team"` // the owning team
	// Subscribers are addresses told of its major incidents; Organisations
	// names [[organisations]] whose single point of contact is told too.
	Subscribers   []string `toml:"subscribers"`
	Organisations []string `toml:"organisations"`
	// Mail rules, first service that matches: mail sent to one of To, from
	// a sender domain in Domains, or with one of Words in its subject.
	To      []string `toml:"to"`
	Domains []string `toml:"domains"`
	Words   []string `toml:"words"`
	// Probes watch it (package monitor): an outage opens its incident.
	Probes []ProbeConfig `toml:"probes"`
}

// MajorConfig is the [major] table: how often a major incident's
// subscribers hear from the desk (default: Borger.dk's table, hourly
// 08-22 on working days and 10-20 at weekends, next morning 08:00).
type MajorConfig struct {
	Every    string            `toml:"every"`    // "1h"
	Morning  string            `toml:"morning"`  // "08:00": the first update after a quiet night
	Hours    map[string]string `toml:"hours"`    // "mon-fri" = "08:00-22:00", "sat-sun" = "10:00-20:00"
	Calendar string            `toml:"calendar"` // zone and holidays; default the SLA calendar
}

// checkServices validates [[services]] and compiles [major].
func (c *Config) checkServices() (slaengine.UpdateCadence, error) {
	seen := map[string]bool{}
	orgs := map[string]string{}
	for _, o := range c.Organisations {
		orgs[strings.ToLower(o.Name)] = o.Contact
	}
	for i, sv := range c.Services {
		at := func(field string) string { return fmt.Sprintf("services[%d].%s", i, field) }
		name := strings.TrimSpace(sv.Name)
		if name == "" {
			return slaengine.UpdateCadence{}, c.errAt(at("name"), "service %d has no name: add name = \"...\" (tickets and :service name it)", i+1)
		}
		if seen[strings.ToLower(name)] {
			return slaengine.UpdateCadence{}, c.errAt(at("name"), "service %q is listed twice: merge the two [[services]] tables", name)
		}
		seen[strings.ToLower(name)] = true
		var teams []string
		for _, t := range c.Teams {
			teams = append(teams, t.Name)
		}
		if sv.Team != "" && len(teams) > 0 && !slices.Contains(teams, sv.Team) {
			return slaengine.UpdateCadence{}, c.errAt(at("team"), "service %q: %q is not one of the teams (%s): add it to [[teams]] or name one of them",
				name, sv.Team, strings.Join(teams, ", "))
		}
		for j, a := range append(slices.Clone(sv.Subscribers), sv.To...) {
			key := fmt.Sprintf("services[%d].subscribers[%d]", i, j)
			if j >= len(sv.Subscribers) {
				key = fmt.Sprintf("services[%d].to[%d]", i, j-len(sv.Subscribers))
			}
			if _, err := mail.ParseAddress(a); err != nil || strings.ContainsAny(a, "<> ") {
				return slaengine.UpdateCadence{}, c.errAt(key, "service %q: %q is not an e-mail address: write it bare, like spoc@aarhus.dk", name, a)
			}
		}
		for j, o := range sv.Organisations {
			contact, ok := orgs[strings.ToLower(o)]
			switch {
			case !ok:
				return slaengine.UpdateCadence{}, c.errAt(fmt.Sprintf("services[%d].organisations[%d]", i, j),
					"service %q: there is no organisation %q: add an [[organisations]] table with that name and its contact", name, o)
			case contact == "":
				return slaengine.UpdateCadence{}, c.errAt(fmt.Sprintf("services[%d].organisations[%d]", i, j),
					"service %q: organisation %q has no contact: add contact = \"spoc@...\" to its [[organisations]] table (its single point of contact is who hears of incidents)", name, o)
			}
		}
	}
	u, err := c.spec().CompileCadence(slaengine.CadenceSpec{Hours: c.Major.Hours, Every: c.Major.Every, Morning: c.Major.Morning, Calendar: c.Major.Calendar}, slaengine.CompileOptions{})
	var se *slaengine.SpecError
	if errors.As(err, &se) {
		return u, c.errAt(se.Key, "%s", se.Msg)
	}
	return u, err
}

// storeServices are the services as the store knows them: subscribers
// with the organisations' contacts added, each address once.
func (c *Config) storeServices() []store.Service {
	contact := map[string]string{}
	for _, o := range c.Organisations {
		contact[strings.ToLower(o.Name)] = o.Contact
	}
	var out []store.Service
	for _, sv := range c.Services {
		subs := slices.Clone(sv.Subscribers)
		for _, o := range sv.Organisations {
			if a := contact[strings.ToLower(o)]; a != "" && !slices.ContainsFunc(subs, func(s string) bool { return strings.EqualFold(s, a) }) {
				subs = append(subs, a)
			}
		}
		out = append(out, store.Service{Name: strings.TrimSpace(sv.Name), Description: sv.Description, Team: sv.Team,
			Subscribers: subs, To: sv.To, Domains: sv.Domains, Words: sv.Words})
	}
	return out
}

// ServiceList are the services' names, in config order.
func (c *Config) ServiceList() []string {
	var out []string
	for _, sv := range c.Services {
		out = append(out, strings.TrimSpace(sv.Name))
	}
	return out
}

// Cadence is the update cadence compiled when the config was loaded.
func (c *Config) Cadence() slaengine.UpdateCadence {
	if !c.compiled {
		u, _ := c.checkServices()
		return u
	}
	return c.cadence
}
