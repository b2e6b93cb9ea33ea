package demomail

import "github.com/deskhq/desk/store"

// What the demo desk's requesters write about: the desk's own tickets (the
// backlog, phone calls, and the mail the generator registers itself without
// the demo mailbox). Each issue belongs to one organisation's requester, at
// the addresses the demo mailbox's organisations use.
type issue struct {
	typ     store.Type
	prio    store.Priority
	subject string
	body    string
	req     store.Person
}

func person(name, email, org string) store.Person {
	return store.Person{Name: name, Email: email, Organisation: org}
}

var issues = []issue{
	{store.Incident, 1, "borger.dk login fails for all users with MitID",
		"Since 07:50 no citizen can log in. MitID returns an error after the app approval. Our call centre is flooded.",
		person("Søren Kjærgaard", "soren.kjaergaard@aarhus.dk", "Aarhus Kommune")},
	{store.Incident, 1, "Security: suspicious logins on the admin portal",
		"We see logins from unknown IP ranges on two admin accounts tonight. The accounts are locked.",
		person("Rasmus Kjær", "rasmus.kjaer@sundhedsdata.dk", "Sundhedsdatastyrelsen")},
	{store.Incident, 2, "FMK: prescriptions not synchronising to pharmacies",
		"Prescriptions created after 10:00 do not show up at the pharmacy. About 8% of our GPs report it.",
		person("Jens Østergaard", "jens.ostergaard@sundhedsdata.dk", "Sundhedsdatastyrelsen")},
	{store.Incident, 2, "Digital Post: letters delayed by 4 hours",
		"Letters sent via Digital Post arrive 4 hours late in e-Boks. Many citizens are affected.",
		person("Lotte Ærenlund", "lotte.aerenlund@rsyd.dk", "Region Syddanmark")},
	{store.Incident, 2, "e-loket returns HTTP 502 for uploads over 5 MB",
		"Uploading documents larger than about 5 MB in the e-loket gives a 502 Bad Gateway. Smaller files work.",
		person("Annelies Claes", "annelies.claes@vlaanderen.be", "Vlaamse Overheid")},
	{store.Incident, 2, "Telefonsystemet: ventende opkald forsvinder",
		"I hotline-køen forsvinder ventende opkald efter 2 minutter. Det sker siden kl. 8.",
		person("Anders Bæk", "anders.baek@rsyd.dk", "Region Syddanmark")},
	{store.Incident, 3, "NSP certificate expiry warning on the test environment",
		"The test STS certificate expires in 9 days. Can you renew it before our release?",
		person("Mikkel Holst", "mikkel.holst@sundhedsdata.dk", "Sundhedsdatastyrelsen")},
	{store.Incident, 3, "Slow response on the address lookup service",
		"DAWA lookups take 5–8 seconds since yesterday afternoon.",
		person("Kirsten Dahl", "kirsten.dahl@aarhus.dk", "Aarhus Kommune")},
	{store.Incident, 3, "VPN disconnects every 10 minutes",
		"Since Monday my VPN connection drops every ten minutes, on wifi and on cable. Other colleagues have the same problem.",
		person("Camille Dubois", "camille.dubois@liege.be", "Ville de Liège")},
	{store.Incident, 3, "Sagsbehandlingssystemet er meget langsomt",
		"Det tager over et minut at åbne en sag i dag. Gælder alle i afdelingen (ca. 40 brugere).",
		person("Mette Frederiksen-Holm", "mette.holm@aarhus.dk", "Aarhus Kommune")},
	{store.Incident, 3, "Website stad.gent: contact form sends no confirmation",
		"The contact form on the website no longer sends the confirmation mail to citizens.",
		person("Thomas Verhoeven", "thomas.verhoeven@stad.gent", "Gemeente Gent")},
	{store.Incident, 3, "Formulaire : l’attestation de résidence ne s’affiche pas",
		"Le formulaire « attestation de résidence » reste blanc après l’envoi, avec Firefox et Edge.",
		person("Amélie Lefèvre", "amelie.lefevre@liege.be", "Ville de Liège")},
	{store.Incident, 3, "Dashboard shows wrong numbers for week 47",
		"The KPI dashboard shows 0 registrations for week 47, but the database has 1,284.",
		person("Mikkel Holst", "mikkel.holst@sundhedsdata.dk", "Sundhedsdatastyrelsen")},
	{store.Incident, 3, "MitID Erhverv: medarbejdersignatur virker ikke på ny PC",
		"En ny medarbejder kan ikke logge ind med MitID Erhverv på sin nye PC. Fejlkode CS-500.",
		person("Rasmus Kjær", "rasmus.kjaer@sundhedsdata.dk", "Sundhedsdatastyrelsen")},
	{store.Incident, 3, "Teams: external participants hear no sound",
		"External participants hear nothing in our Teams meetings since yesterday.",
		person("Marie Laurent", "marie.laurent@liege.be", "Ville de Liège")},
	{store.Incident, 4, "Typo in the Danish text of the consent page",
		"'Samtykke' is misspelt as 'Samtykkke' on the consent step.",
		person("Ida Sørensen", "ida.sorensen@kk.dk", "Københavns Kommune")},
	{store.Incident, 4, "Printer on the 3rd floor reports a paper jam after the firmware update",
		"After last night's firmware update the printer KK-3F-02 reports a paper jam that is not there.",
		person("Hanne Bøgh", "hanne.bogh@kk.dk", "Københavns Kommune")},
	{store.Incident, 4, "Kalender synkroniserer ikke på telefonen",
		"Min Outlook-kalender viser ikke møder på telefonen siden i går.",
		person("Kirsten Dahl", "kirsten.dahl@aarhus.dk", "Aarhus Kommune")},
	{store.Request, 3, "Export of last month's incident statistics",
		"Could we have the incident statistics per priority for last month, for the steering group?",
		person("Wouter Van Acker", "wouter.vanacker@vlaanderen.be", "Vlaamse Overheid")},
	{store.Request, 3, "Access to the reporting portal for two new colleagues",
		"Please give Els Van den Broeck and Joris Maes read access to the reporting portal. Their managers have approved.",
		person("Pieter De Smet", "pieter.desmet@stad.gent", "Gemeente Gent")},
	{store.Request, 3, "Account locked after three wrong passwords",
		"My account is blocked after three wrong attempts. Can you unlock it?",
		person("Bram Peeters", "bram.peeters@stad.gent", "Gemeente Gent")},
	{store.Request, 3, "New shared mailbox for the parking department",
		"Please create a shared mailbox parkering@kk.dk for the parking department, with full access for five people.",
		person("Freja Lindqvist", "freja.lindqvist@kk.dk", "Københavns Kommune")},
	{store.Request, 3, "Demande d'accès au partage réseau finances",
		"Pourriez-vous me donner l'accès en lecture au partage finances ? Mon responsable est en copie.",
		person("Élodie Marchand", "elodie.marchand@liege.be", "Ville de Liège")},
	{store.Request, 4, "Please update the contact person for our organisation",
		"Our single point of contact changes from 1 December to Karen Juhl.",
		person("Karen Juhl", "karen.juhl@kk.dk", "Københavns Kommune")},
	{store.Request, 4, "Install QGIS on two workstations",
		"Please install QGIS 3.34 on KK-PLAN-11 and KK-PLAN-12 for the planning team.",
		person("Karen Juhl", "karen.juhl@kk.dk", "Københavns Kommune")},
	{store.ChangeReq, 3, "RFC: raise the rate limit for OOTS evidence requests",
		"During the enrolment peak we exceed 20 req/s. Please raise our limit to 50 req/s.",
		person("Luc Janssens", "luc.janssens@vlaanderen.be", "Vlaamse Overheid")},
	{store.ChangeReq, 3, "RFC: extend Saturday's maintenance window",
		"We would like to extend Saturday's window from 22:00–24:00 to 20:00–02:00 for the database migration.",
		person("Wouter Van Acker", "wouter.vanacker@vlaanderen.be", "Vlaamse Overheid")},
	{store.ChangeReq, 4, "RFC: add a Dutch translation to the status page",
		"Our users in Flanders ask for a Dutch version of the status page.",
		person("Sofie Mertens", "sofie.mertens@stad.gent", "Gemeente Gent")},
}

// What colleagues write, by situation. %s is the ticket's subject where a
// text has one.
var (
	firstReplies = []string{
		"Thank you for your report. We are looking into it and will update you within the hour.",
		"Thank you, we have reproduced it and are working on it. You will hear from us as soon as we know more.",
		"Thanks for the details. I have taken this ticket and will come back to you today.",
	}
	questions = []string{
		"Could you send us a screenshot of the error and the time it happened?",
		"Which browser and version do the affected users have?",
		"Could you confirm the user names of the people affected?",
		"Does this happen for every user or only for some? An example would help.",
	}
	answered = []string{
		"The requester called back with the details; continuing.",
		"Requester sent the screenshot by phone/Teams; the error is reproducible.",
		"Got the user names from the requester.",
	}
	notes = []string{
		"Reproduced on test; checking the supplier's logs.",
		"Checked the monitoring: errors started after last night's deployment.",
		"Asked operations whether the certificate was rotated.",
		"Same symptom as last week's ticket; trying the known workaround.",
		"Called the requester: a workaround (clearing the cache) helps for now.",
		"Waiting for the supplier's reply on their ticket.",
	}
	findings = map[string]string{
		"operations":  "the load balancer pool had a failed node; it is replaced. Please confirm with the requester.",
		"application": "a configuration flag was reset by the last release; it is set again.",
		"component":   "the supplier patched the component; the fix is live.",
		"security":    "the logins came from a misconfigured scanner of our own; no breach. Passwords reset as a precaution.",
	}
	resolutions = []string{
		"We have resolved this: the supplier corrected the configuration. Reply to this mail if it is not solved for you.",
		"This is fixed: the service was restarted and works normally again. Reply to this mail if you still see the problem.",
		"Done: the access is in place. Reply to this mail if anything is missing.",
		"Resolved: the fix was deployed this morning. Reply to this mail if it still happens.",
	}
)
