# ruff: noqa: E501
"""Italian for the in-person window's strings (contexts ``InPerson`` and ``InPersonWindow``).

The strings go through ``tr()``/``QCoreApplication.translate`` like every other, so
``resources/translations/build.py`` (pyside6-lupdate) extracts them into ``console_it.ts``; this
table is where their Italian comes from until that file carries it: :class:`InPersonTranslator`
answers for these two contexts only, and a translation in the compiled ``.qm`` wins when it is
installed after it. Every value keeps the ``%1`` markers of its source.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QTranslator

ITALIAN: dict[tuple[str, str], str] = {
    ("InPerson", "The smart-card service (pcscd) is not running. Start it with 'sudo systemctl start pcscd' (or 'sudo pcscd')."): "Il servizio delle smart card (pcscd) non è attivo. Avvialo con 'sudo systemctl start pcscd' (oppure 'sudo pcscd').",
    ("InPerson", "No card reader is connected."): "Nessun lettore di smart card collegato.",
    ("InPerson", "The card reader is not connected."): "Il lettore di smart card non è collegato.",
    ("InPerson", "The card reader was unplugged."): "Il lettore di smart card è stato scollegato.",
    ("InPerson", "Insert the Tessera Sanitaria in the reader."): "Inserisci la Tessera Sanitaria nel lettore.",
    ("InPerson", "The card was removed while being read: nothing was kept. Insert it again."): "La tessera è stata estratta durante la lettura: non è stato conservato nulla. Inseriscila di nuovo.",
    ("InPerson", "The card does not answer. Check that it is inserted the right way."): "La tessera non risponde. Controlla che sia inserita nel verso giusto.",
    ("InPerson", "This card is not a Tessera Sanitaria / CNS."): "Questa tessera non è una Tessera Sanitaria / CNS.",
    ("InPerson", "The card refuses to be read without a PIN."): "La tessera non si lascia leggere senza PIN.",
    ("InPerson", "The personal data on the card are unreadable (malformed file)."): "I dati personali sulla tessera sono illeggibili (file malformato).",
    ("InPerson", "The card number on the card is unreadable."): "Il numero della tessera è illeggibile.",
    ("InPerson", "The certificate on the card is unreadable (malformed)."): "Il certificato sulla tessera è illeggibile (malformato).",
    ("InPerson", "No request has this booking code."): "Nessuna pratica ha questo codice di prenotazione.",
    ("InPerson", "This request is already decided."): "Questa pratica è già stata decisa.",
    ("InPerson", "Finish the current request first."): "Concludi prima la pratica in corso.",
    ("InPerson", "Look the request up first."): "Cerca prima la pratica.",
    ("InPerson", "Read the Tessera Sanitaria first."): "Leggi prima la Tessera Sanitaria.",
    ("InPerson", "The card does not match the request."): "La tessera non corrisponde alla pratica.",
    ("InPerson", "The identity document is expired."): "Il documento d'identità è scaduto.",
    ("InPerson", "The picture is not usable; take it again."): "La foto non è utilizzabile: scattala di nuovo.",
    ("InPerson", "Unknown picture kind."): "Tipo di foto sconosciuto.",
    ("InPerson", "The camera is not available."): "La fotocamera non è disponibile.",
    ("InPerson", "Approval is blocked: see the list of what is missing."): "L'approvazione è bloccata: vedi l'elenco di ciò che manca.",
    ("InPerson", "The card could not be read."): "Non è stato possibile leggere la tessera.",
    ("InPerson", "Codice fiscale differs from the request"): "Il codice fiscale è diverso da quello della pratica",
    ("InPerson", "Codice fiscale in the certificate differs from the card data"): "Il codice fiscale del certificato è diverso da quello dei dati della tessera",
    ("InPerson", "Card number in the certificate differs from the card"): "Il numero di tessera nel certificato è diverso da quello della tessera",
    ("InPerson", "Surname differs from the request"): "Il cognome è diverso da quello della pratica",
    ("InPerson", "Given names differ from the request"): "Il nome è diverso da quello della pratica",
    ("InPerson", "Date of birth differs from the request"): "La data di nascita è diversa da quella della pratica",
    ("InPerson", "The card is expired"): "La tessera è scaduta",
    ("InPerson", "The CNS certificate is expired"): "Il certificato CNS è scaduto",
    ("InPerson", "This Tessera Sanitaria carries no CNS certificate (the data are still checked)"): "Questa Tessera Sanitaria non contiene il certificato CNS (i dati sono comunque verificati)",
    ("InPerson", "Look the request up by its booking code"): "Cerca la pratica con il codice di prenotazione",
    ("InPerson", "Read the Tessera Sanitaria"): "Leggi la Tessera Sanitaria",
    ("InPerson", "The card does not match the request"): "La tessera non corrisponde alla pratica",
    ("InPerson", "The Tessera Sanitaria is expired"): "La Tessera Sanitaria è scaduta",
    ("InPerson", "The identity document is expired"): "Il documento d'identità è scaduto",
    ("InPerson", "The document's MRZ does not match the request"): "La MRZ del documento non corrisponde alla pratica",
    ("InPerson", "Take the photo of the person"): "Scatta la foto della persona",
    ("InPerson", "Complete the script steps"): "Completa i passi del copione",
    ("InPerson", "Already decided"): "Già decisa",
    ("InPersonWindow", "In-person identification"): "Identificazione di persona",
    ("InPersonWindow", "Booking code"): "Codice di prenotazione",
    ("InPersonWindow", "Find request"): "Cerca pratica",
    ("InPersonWindow", "Request"): "Pratica",
    ("InPersonWindow", "Tessera Sanitaria / CNS"): "Tessera Sanitaria / CNS",
    ("InPersonWindow", "Insert the Tessera Sanitaria in the reader."): "Inserisci la Tessera Sanitaria nel lettore.",
    ("InPersonWindow", "Read card"): "Leggi tessera",
    ("InPersonWindow", "Pictures"): "Foto",
    ("InPersonWindow", "Print the request form (PDF)"): "Stampa il modulo di richiesta (PDF)",
    ("InPersonWindow", "Script (AgID art. 7)"): "Copione (AgID art. 7)",
    ("InPersonWindow", "Decision"): "Decisione",
    ("InPersonWindow", "Approve"): "Approva",
    ("InPersonWindow", "Note"): "Nota",
    ("InPersonWindow", "Reject"): "Respingi",
    ("InPersonWindow", "Suspend"): "Sospendi",
    ("InPersonWindow", "Looking the request up…"): "Ricerca della pratica…",
    ("InPersonWindow", "Request found. Read the card and take the pictures."): "Pratica trovata. Leggi la tessera e scatta le foto.",
    ("InPersonWindow", "Reading the card…"): "Lettura della tessera…",
    ("InPersonWindow", "Done. Type the next booking code."): "Fatto. Digita il prossimo codice di prenotazione.",
    ("InPersonWindow", "Booking code:"): "Codice di prenotazione:",
    ("InPersonWindow", "Service"): "Servizio",
    ("InPersonWindow", "Applicant"): "Richiedente",
    ("InPersonWindow", "Codice fiscale"): "Codice fiscale",
    ("InPersonWindow", "Date of birth"): "Data di nascita",
    ("InPersonWindow", "Document"): "Documento",
    ("InPersonWindow", "Card number"): "Numero tessera",
    ("InPersonWindow", "Holder"): "Titolare",
    ("InPersonWindow", "Expiry"): "Scadenza",
    ("InPersonWindow", "CNS certificate"): "Certificato CNS",
    ("InPersonWindow", "not taken"): "non scattata",
    ("InPersonWindow", "Still missing for approval:"): "Manca ancora per approvare:",
    ("InPersonWindow", "Type the booking code."): "Digita il codice di prenotazione.",
    ("InPersonWindow", "present"): "presente",
    ("InPersonWindow", "absent"): "assente",
    ("InPersonWindow", "Card read: it matches the request."): "Tessera letta: corrisponde alla pratica.",
    ("InPersonWindow", "Card read: it does NOT match the request."): "Tessera letta: NON corrisponde alla pratica.",
    ("InPersonWindow", "Confirm"): "Conferma",
    ("InPersonWindow", "poor picture: take it again"): "foto scadente: scattala di nuovo",
    ("InPersonWindow", "no document found"): "nessun documento trovato",
    ("InPersonWindow", "MRZ check digits wrong"): "cifre di controllo della MRZ errate",
    ("InPersonWindow", "MRZ differs from the request"): "la MRZ è diversa dalla pratica",
    ("InPersonWindow", "ok"): "ok",
    ("InPersonWindow", "Decision recorded: %1"): "Decisione registrata: %1",
    ("InPersonWindow", "Unexpected error; the action was not completed."): "Errore imprevisto: l'azione non è stata completata.",
    ("InPersonWindow", "Card inserted. Look the request up first."): "Tessera inserita. Cerca prima la pratica.",
    ("InPersonWindow", "Form saved: %1"): "Modulo salvato: %1",
}
CONTEXTS = frozenset(c for c, _ in ITALIAN)


class InPersonTranslator(QTranslator):
    """Italian for the in-person contexts; empty (= not mine) for everything else."""

    def translate(  # type: ignore[override]
        self, context: str, source: str, disambiguation: str | None = None, n: int = -1
    ) -> str | None:
        # None becomes a null QString: "not mine", so Qt asks the next translator / the source
        if not _state["active"] or context not in CONTEXTS:
            return None
        return ITALIAN.get((context, source))

    def isEmpty(self) -> bool:
        return False


_installed: list[InPersonTranslator] = []
_state = {"active": False}


def use_italian(active: bool = True) -> None:
    """Switch the table on (Italian interface) or off; installs it the first time."""
    _state["active"] = active
    app = QCoreApplication.instance()
    if app is None or _installed or not active:
        return
    translator = InPersonTranslator(app)
    QCoreApplication.installTranslator(translator)
    _installed.append(translator)
