// Package demomail is the built-in demo mailbox: an in-process IMAP server
// fed with realistic mail (Danish in Latin-1, HTML only, attachments,
// replies to acknowledgements, out-of-office answers) and an SMTP sink.
// It is for desk demo and tests, never for a real desk.
package demomail

import (
	"context"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"mime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"

	"github.com/deskhq/desk/mailin"
)

// Demo is the built-in demo mailbox: an in-process IMAP server fed with
// realistic mail over time and an in-process SMTP sink.
type Demo struct {
	imap   *mailin.LocalIMAP
	sink   *mailin.LocalSink
	user   string
	cancel context.CancelFunc
	done   chan struct{}
	log    *log.Logger
	every  time.Duration
	pace   time.Duration
	rnd    *rand.Rand
	run    string // makes Message-IDs unique per demo run

	mu      sync.Mutex
	replied map[string]bool // acks already answered (by Message-ID)
}

// Options tune the demo feed.
type Options struct {
	Every time.Duration // pause between mails, default a few seconds (tests)
	// Pace, when set, overrides Every with a desk's irregular pace (see
	// Gap): a short burst at first, then one mail every 5–22.5 Paces.
	Pace time.Duration
	Log  *log.Logger
}

const demoPass = "demo"

// Start starts the servers and the feed; mailin.Config points a Service at them.
func Start(ctx context.Context, o Options) (*Demo, error) {
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	// A user name per run gives each run its own checkpoint in a kept
	// data directory (the in-memory mailbox restarts at UIDVALIDITY 1).
	user := "demo-" + run
	im, err := mailin.StartLocalIMAP(user, demoPass, true)
	if err != nil {
		return nil, err
	}
	sink, err := mailin.StartLocalSink("")
	if err != nil {
		im.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	d := &Demo{imap: im, sink: sink, user: user, cancel: cancel, done: make(chan struct{}), log: o.Log,
		every: o.Every, pace: o.Pace, run: run, replied: map[string]bool{},
		rnd: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))}
	if d.every <= 0 {
		d.every = 4 * time.Second
	}
	if d.log == nil {
		d.log = log.New(io.Discard, "", 0)
	}
	go d.feed(ctx)
	return d, nil
}

// Config returns a mail config for the demo servers.
func (d *Demo) Config() mailin.Config {
	return mailin.Config{
		IMAP:         "imap://" + d.user + "@" + d.imap.Addr + "/INBOX",
		SMTP:         "smtp://" + d.sink.Addr,
		Address:      "support@desk.example",
		Name:         "Desk Demo Service Desk",
		StartFrom:    "all",
		PollInterval: mailin.Duration{Duration: 2 * time.Second},
	}.WithPassword(demoPass)
}

// Organisations the demo's requesters belong to, for Options.
func (d *Demo) Organisations() []mailin.Organisation { return demoOrgs }

// Sent returns every mail the desk sent to the demo's SMTP sink, oldest first.
func (d *Demo) Sent() []mailin.SentMail { return d.sink.Sent() }

// Close stops the feed and the servers.
func (d *Demo) Close() error {
	d.cancel()
	<-d.done
	e1 := d.imap.Close()
	e2 := d.sink.Close()
	if e1 != nil {
		return e1
	}
	return e2
}

func (d *Demo) feed(ctx context.Context) {
	defer close(d.done)
	for i := 0; ; i++ {
		// The first few arrive at once so a newcomer sees tickets appear.
		wait := d.every
		switch {
		case d.pace > 0:
			wait = Gap(i, d.pace, d.rnd)
		case i < 4:
			wait = 300 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		raw := d.next(i)
		if raw == nil {
			continue
		}
		if err := d.imap.Append("INBOX", raw); err != nil {
			d.log.Printf("demo: deliver mail %d: %v", i, err)
		}
	}
}

var demoOrgs = []mailin.Organisation{
	{Name: "Region Syddanmark", Domains: []string{"rsyd.dk"}, Contact: "it-kontakt@rsyd.dk"},
	{Name: "Aarhus Kommune", Domains: []string{"aarhus.dk"}, Contact: "digitalisering@aarhus.dk"},
	{Name: "Gemeente Gent", Domains: []string{"stad.gent"}, Contact: "ict@stad.gent"},
	{Name: "Vlaamse Overheid", Domains: []string{"vlaanderen.be"}, Contact: "servicedesk@vlaanderen.be"},
	{Name: "Ville de Liège", Domains: []string{"liege.be"}, Contact: "informatique@liege.be"},
	{Name: "Sundhedsdatastyrelsen", Domains: []string{"sundhedsdata.dk"}, Contact: "drift@sundhedsdata.dk"},
	{Name: "Københavns Kommune", Domains: []string{"kk.dk"}, Contact: "itsupport@kk.dk"},
}

type demoMail struct {
	name, addr, subject, body string
	kind                      string // "", "latin1", "cp1252", "html", "attach", "ooo", "reply", "encoded"
}

var demoMails = []demoMail{
	{"Søren Kjærgaard", "soren.kjaergaard@aarhus.dk", "borger.dk login fails with MitID error",
		"Hi,\n\nSince this morning citizens cannot log in to borger.dk. After the MitID app approves,\nthe page shows \"Der opstod en fejl (MITID-4012)\". About 30 calls so far.\n\nBest regards,\nSøren Kjærgaard\nAarhus Kommune, Borgerservice", ""},
	{"Lotte Ærenlund", "lotte.aerenlund@rsyd.dk", "Æblegrød på Ærø – FMK recepter synkroniserer ikke",
		"Hej,\n\nFælles Medicinkort (FMK) viser ikke de recepter, lægen oprettede i går på Ærø.\nVi har prøvet at genstarte klienten. Kan I se på det?\n\nVenlig hilsen\nLotte Ærenlund\nRegion Syddanmark", "latin1"},
	{"Pieter De Smet", "pieter.desmet@stad.gent", "Request: access to the reporting portal for two new colleagues",
		"Hello,\n\nPlease give Els Van den Broeck and Joris Maes read access to the reporting portal.\nTheir managers have approved (see below).\n\nKind regards,\nPieter De Smet", ""},
	{"Amélie Lefèvre", "amelie.lefevre@liege.be", "Formulaire de demande : l’attestation ne s’affiche pas",
		"Bonjour,\n\nLe formulaire “attestation de résidence” reste blanc après l’envoi.\nNous avons essayé avec Firefox et Edge – même résultat.\n\nCordialement,\nAmélie Lefèvre", "cp1252"},
	{"Jens Østergaard", "jens.ostergaard@sundhedsdata.dk", "FMK prescriptions not syncing to pharmacies",
		"<p>Hi team,</p><p>Since <b>09:40</b> prescriptions created in FMK do not reach the pharmacies.</p><ul><li>Affected: all regions</li><li>Error: <code>timeout after 30s</code></li></ul><p>See the <a href=\"https://status.example.dk/fmk\">status page</a>.</p><p>Jens</p>", "html"},
	{"Hanne Bøgh", "hanne.bogh@kk.dk", "Printer on 3rd floor shows paper jam after firmware update",
		"Hi,\n\nAfter last night's firmware update, the printer KK-3F-02 reports a paper jam\nthat is not there. Log attached.\n\nHanne", "attach"},
	{"Wouter Van Acker", "wouter.vanacker@vlaanderen.be", "Change request: extend the maintenance window on Saturday",
		"Hello,\n\nWe would like to extend Saturday's maintenance window from 22:00-24:00 to 20:00-02:00\nfor the database migration. Rollback plan attached in the CAB ticket.\n\nWouter", ""},
	{"Mette Frederiksen-Holm", "mette.holm@aarhus.dk", "Sagsbehandlingssystemet er meget langsomt",
		"Hej,\n\nDet tager over et minut at åbne en sag i dag. Gælder alle i afdelingen (ca. 40 brugere).\n\nMvh. Mette", ""},
	{"", "", "", "", "reply"},
	{"Bram Peeters", "bram.peeters@stad.gent", "=?UTF-8?Q?Wachtwoord_vergeten_=E2=80=93_account_geblokkeerd?=",
		"Dag,\n\nMijn account is geblokkeerd na drie foute pogingen. Kunnen jullie het deblokkeren?\n\nMet vriendelijke groeten,\nBram Peeters", "encoded"},
	{"Camille Dubois", "camille.dubois@liege.be", "VPN disconnects every 10 minutes",
		"Hello,\n\nSince Monday my VPN connection drops every ten minutes, on wifi and on cable.\nOther colleagues have the same problem.\n\nCamille", ""},
	{"Niels Ågård", "niels.agard@rsyd.dk", "Out of office", "", "ooo"},
	{"Freja Lindqvist", "freja.lindqvist@kk.dk", "Request: new mailbox for the parking department",
		"Hi,\n\nPlease create a shared mailbox parkering@kk.dk for the parking department, with\nfull access for the five people listed below.\n\nFreja", ""},
	{"Annelies Claes", "annelies.claes@vlaanderen.be", "Incident: e-loket returns HTTP 502 for uploads over 5 MB",
		"Hello,\n\nUploading documents larger than about 5 MB in the e-loket gives a 502 Bad Gateway.\nSmaller files work.\n\nAnnelies Claes\nVlaamse Overheid", ""},
	{"", "", "", "", "reply"},
	{"Rasmus Kjær", "rasmus.kjaer@sundhedsdata.dk", "MitID erhverv: medarbejdersignatur virker ikke på ny PC",
		"Hej,\n\nEn ny medarbejder kan ikke logge ind med MitID Erhverv på sin nye PC. Fejlkode CS-500.\n\nRasmus", ""},
	{"Élodie Marchand", "elodie.marchand@liege.be", "Demande d'accès au partage réseau \\\\finances",
		"Bonjour,\n\nPourriez-vous me donner l'accès en lecture au partage \\\\finances ?\nMon responsable, M. Renard, est en copie.\n\nMerci d'avance,\nÉlodie", ""},
	{"Kirsten Dahl", "kirsten.dahl@aarhus.dk", "Kalender synkroniserer ikke på telefonen",
		"Hej,\n\nMin Outlook-kalender viser ikke møder på telefonen siden i går.\n\nKirsten", "latin1"},
	{"Thomas Verhoeven", "thomas.verhoeven@stad.gent", "Website stad.gent: contact form sends no confirmation",
		"<html><body><div>Hello,</div><div><br></div><div>The contact form on the website no longer sends the confirmation mail to citizens.</div><div>Kind regards,<br>Thomas</div></body></html>", "html"},
	{"Ida Sørensen", "ida.sorensen@kk.dk", "Skærm flimrer efter opdatering",
		"Hej,\n\nMin skærm flimrer efter Windows-opdateringen i nat. Screenshot vedhæftet.\n\nIda", "attach"},
	{"", "", "", "", "reply"},
	{"Luc Janssens", "luc.janssens@vlaanderen.be", "Planned change: certificate renewal for api.vlaanderen.be",
		"Hello,\n\nThe TLS certificate of api.vlaanderen.be expires on the 30th. We plan to renew it\non Thursday at 07:00. Please confirm that no partner pins the old certificate.\n\nLuc", ""},
	{"Sofie Mertens", "sofie.mertens@stad.gent", "Laptop does not start after BitLocker prompt",
		"Hi,\n\nMy laptop asks for the BitLocker recovery key after every start. Can you help?\n\nSofie", ""},
	{"Anders Bæk", "anders.baek@rsyd.dk", "Telefonsystemet: ventende opkald forsvinder",
		"Hej,\n\nI hotline-køen forsvinder ventende opkald efter 2 minutter. Det sker siden kl. 8.\n\nAnders Bæk\nRegion Syddanmark", ""},
	{"Marie Laurent", "marie.laurent@liege.be", "Réunion Teams : pas de son pour les participants externes",
		"Bonjour,\n\nLes participants externes n’entendent rien pendant nos réunions Teams depuis hier.\n\nMarie", "cp1252"},
	{"", "", "", "", "reply"},
	{"Mikkel Holst", "mikkel.holst@sundhedsdata.dk", "Dashboard shows wrong numbers for week 47",
		"Hi,\n\nThe KPI dashboard shows 0 registrations for week 47, but the database has 1,284.\n\nMikkel", ""},
	{"Jeroen Wouters", "jeroen.wouters@vlaanderen.be", "Out of office", "", "ooo"},
	{"Karen Juhl", "karen.juhl@kk.dk", "Request: install QGIS on two workstations",
		"Hi,\n\nPlease install QGIS 3.34 on KK-PLAN-11 and KK-PLAN-12 for the planning team.\n\nKaren", ""},
	{"", "", "", "", "reply"},
}

// next builds mail number i of the rotation; nil when a reply has nothing
// to answer yet.
func (d *Demo) next(i int) []byte {
	dm := demoMails[i%len(demoMails)]
	round := i / len(demoMails)
	id := fmt.Sprintf("<demo.%s.%d@mail.example>", d.run, i)
	date := time.Now().Format(time.RFC1123Z)
	subject := dm.subject
	if round > 0 && dm.kind != "reply" && dm.kind != "ooo" {
		subject += fmt.Sprintf(" (again, %d)", round+1)
	}
	switch dm.kind {
	case "reply", "ooo":
		ack, ok := d.pickAck()
		if !ok {
			if dm.kind == "reply" {
				return nil
			}
			ack = mailin.SentMail{To: []string{dm.addr}, Subject: "your mail"}
		}
		to := ""
		if len(ack.To) > 0 {
			to = ack.To[0]
		}
		var b strings.Builder
		if dm.kind == "ooo" {
			fmt.Fprintf(&b, "From: %s <%s>\r\n", mime.QEncoding.Encode("utf-8", dm.name), to)
			fmt.Fprintf(&b, "Subject: Automatic reply: %s\r\nAuto-Submitted: auto-replied\r\nX-Auto-Response-Suppress: All\r\n", mime.QEncoding.Encode("utf-8", ack.Subject))
		} else {
			fmt.Fprintf(&b, "From: <%s>\r\nSubject: %s\r\n", to, mime.QEncoding.Encode("utf-8", "Re: "+ack.Subject))
		}
		fmt.Fprintf(&b, "To: Service Desk <support@desk.example>\r\nDate: %s\r\nMessage-ID: %s\r\n", date, id)
		if ack.MessageID != "" {
			fmt.Fprintf(&b, "In-Reply-To: <%s>\r\nReferences: <%s>\r\n", ack.MessageID, ack.MessageID)
		}
		b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
		if dm.kind == "ooo" {
			b.WriteString("I am out of the office until Monday with limited access to mail.\r\nFor urgent matters, call the front desk.\r\n")
		} else {
			b.WriteString("Hello,\r\n\r\nThanks for the quick acknowledgement. Some more details: it happens for every\r\nuser since 08:15, and restarting did not help. Screenshots on request.\r\n\r\n> Thank you for your mail.\r\n")
		}
		return []byte(b.String())
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Return-Path: <%s>\r\n", dm.addr)
	switch dm.kind {
	case "latin1":
		// What Latin-1 cannot hold (the en dash) becomes "?", as a real
		// Latin-1 mailer does, instead of the whole subject going missing.
		latin1 := encoding.ReplaceUnsupported(charmap.ISO8859_1.NewEncoder())
		enc, _ := latin1.String(subject)
		name, _ := latin1.String(dm.name)
		fmt.Fprintf(&b, "From: %s <%s>\r\nSubject: %s\r\n", mime.QEncoding.Encode("iso-8859-1", name), dm.addr, mime.QEncoding.Encode("iso-8859-1", enc))
	case "encoded":
		fmt.Fprintf(&b, "From: %s <%s>\r\nSubject: %s\r\n", dm.name, dm.addr, subject)
	default:
		fmt.Fprintf(&b, "From: %s <%s>\r\nSubject: %s\r\n", mime.QEncoding.Encode("utf-8", dm.name), dm.addr, mime.QEncoding.Encode("utf-8", subject))
	}
	fmt.Fprintf(&b, "To: Service Desk <support@desk.example>\r\nDate: %s\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\n", date, id)
	body := strings.ReplaceAll(dm.body, "\n", "\r\n")
	switch dm.kind {
	case "latin1":
		enc, _ := encoding.ReplaceUnsupported(charmap.ISO8859_1.NewEncoder()).String(body)
		b.WriteString("Content-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
		b.WriteString(enc)
	case "cp1252":
		enc, _ := encoding.ReplaceUnsupported(charmap.Windows1252.NewEncoder()).String(body)
		b.WriteString("Content-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
		b.WriteString(qp(enc))
	case "html":
		b.WriteString("Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
		b.WriteString(body)
	case "attach":
		b.WriteString("Content-Type: multipart/mixed; boundary=\"=_demo_boundary\"\r\n\r\n")
		b.WriteString("--=_demo_boundary\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
		b.WriteString(body + "\r\n")
		b.WriteString("--=_demo_boundary\r\nContent-Type: text/plain; name=\"printer-log.txt\"\r\nContent-Disposition: attachment; filename=\"printer-log.txt\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		b.WriteString("MjAyNi0xMS0yMyAwMjowMDowMSBmaXJtd2FyZSA0LjIuMSBhcHBsaWVkCjIwMjYtMTEtMjMgMDI6MDA6\r\nMTkgSkFNIHRyYXkgMiAoc2Vuc29yIDQpCg==\r\n")
		b.WriteString("--=_demo_boundary--\r\n")
	default:
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
		b.WriteString(body)
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

// pickAck finds an acknowledgement the sink received that no demo mail
// has answered yet.
func (d *Demo) pickAck() (mailin.SentMail, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, m := range d.sink.Sent() {
		if !m.Auto || m.MessageID == "" || d.replied[m.MessageID] || !strings.Contains(m.Subject, "[") || deskNotice(m.Subject) {
			continue
		}
		d.replied[m.MessageID] = true
		return m, true
	}
	return mailin.SentMail{}, false
}

// deskNotice tells the desk's notices (to subscribers, to whoever an
// escalation step names) from acknowledgements: a requester answers an
// acknowledgement, a stakeholder does not answer a status update with
// "thanks for the quick acknowledgement".
func deskNotice(subject string) bool {
	for _, w := range []string{"major incident", "Escalation ", "Status update due"} {
		if strings.Contains(subject, w) {
			return true
		}
	}
	return false
}

// qp is a minimal quoted-printable encoder for 8-bit text with CRLF lines.
func qp(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\r\n") {
		n := 0
		for i := 0; i < len(line); i++ {
			c := line[i]
			var tok string
			if c == '=' || c >= 0x80 || (c < 0x20 && c != '\t') {
				tok = fmt.Sprintf("=%02X", c)
			} else {
				tok = string(c)
			}
			if n+len(tok) > 75 {
				b.WriteString("=\r\n")
				n = 0
			}
			b.WriteString(tok)
			n += len(tok)
		}
		b.WriteString("\r\n")
	}
	return strings.TrimSuffix(b.String(), "\r\n")
}
