<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="it_IT">
<context>
    <name>DecisionDialog</name>
    <message>
        <source>Decision</source>
        <translation>Decisione</translation>
    </message>
    <message>
        <source>Approve</source>
        <translation>Approva</translation>
    </message>
    <message>
        <source>Reject</source>
        <translation>Respingi</translation>
    </message>
    <message>
        <source>Suspend (the applicant can be called again)</source>
        <translation>Sospendi (il richiedente potrà essere richiamato)</translation>
    </message>
    <message>
        <source>Approval is blocked: required steps not passed: %1</source>
        <translation>Approvazione bloccata: passi obbligatori non superati: %1</translation>
    </message>
    <message>
        <source>Note for the record (optional, required for 'Other')</source>
        <translation>Nota per il verbale (facoltativa, obbligatoria per 'Altro')</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Motivo</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>Nota</translation>
    </message>
    <message>
        <source>Send decision</source>
        <translation>Invia la decisione</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Annulla</translation>
    </message>
    <message>
        <source>Outcome of the recognition</source>
        <translation>Esito del riconoscimento</translation>
    </message>
    <message>
        <source>Choose an outcome.</source>
        <translation>Scegli un esito.</translation>
    </message>
    <message>
        <source>Explain the reason in the note.</source>
        <translation>Spiega il motivo nella nota.</translation>
    </message>
</context>
<context>
    <name>Findings</name>
    <message>
        <source>matches</source>
        <translation>corrisponde</translation>
    </message>
    <message>
        <source>differs</source>
        <translation>diverso</translation>
    </message>
    <message>
        <source>unreadable</source>
        <translation>illeggibile</translation>
    </message>
    <message>
        <source>unsure: check by eye</source>
        <translation>incerto: verificare a vista</translation>
    </message>
    <message>
        <source>not in the request</source>
        <translation>non nella richiesta</translation>
    </message>
    <message>
        <source>ok</source>
        <translation>ok</translation>
    </message>
    <message>
        <source>blurred</source>
        <translation>sfocata</translation>
    </message>
    <message>
        <source>reflections</source>
        <translation>riflessi</translation>
    </message>
    <message>
        <source>too dark</source>
        <translation>troppo scura</translation>
    </message>
    <message>
        <source>overexposed</source>
        <translation>sovraesposta</translation>
    </message>
    <message>
        <source>same person</source>
        <translation>stessa persona</translation>
    </message>
    <message>
        <source>different person</source>
        <translation>persona diversa</translation>
    </message>
    <message>
        <source>cannot say</source>
        <translation>non determinabile</translation>
    </message>
    <message>
        <source>valid</source>
        <translation>valido</translation>
    </message>
    <message>
        <source>invalid</source>
        <translation>non valido</translation>
    </message>
    <message>
        <source>expired</source>
        <translation>scaduto</translation>
    </message>
    <message>
        <source>in force</source>
        <translation>in corso di validità</translation>
    </message>
    <message>
        <source>not ok</source>
        <translation>non ok</translation>
    </message>
    <message>
        <source>Surname</source>
        <translation>Cognome</translation>
    </message>
    <message>
        <source>Given names</source>
        <translation>Nomi</translation>
    </message>
    <message>
        <source>Document number</source>
        <translation>Numero del documento</translation>
    </message>
    <message>
        <source>Birth date</source>
        <translation>Data di nascita</translation>
    </message>
    <message>
        <source>Sex</source>
        <translation>Sesso</translation>
    </message>
    <message>
        <source>Expiry date</source>
        <translation>Data di scadenza</translation>
    </message>
    <message>
        <source>Nationality</source>
        <translation>Cittadinanza</translation>
    </message>
    <message>
        <source>Codice fiscale</source>
        <translation>Codice fiscale</translation>
    </message>
    <message>
        <source>Sharpness</source>
        <translation>Nitidezza</translation>
    </message>
    <message>
        <source>Glare</source>
        <translation>Riflessi</translation>
    </message>
    <message>
        <source>Exposure</source>
        <translation>Esposizione</translation>
    </message>
    <message>
        <source>No document in view: ask to show it to the camera</source>
        <translation>Nessun documento inquadrato: chiedi di mostrarlo alla telecamera</translation>
    </message>
    <message>
        <source>Closer: ask to bring the document nearer</source>
        <translation>Avvicina: chiedi di avvicinare il documento</translation>
    </message>
    <message>
        <source>Too close: ask to move the document away a little</source>
        <translation>Troppo vicino: chiedi di allontanare un po' il documento</translation>
    </message>
    <message>
        <source>Ask to centre the document</source>
        <translation>Chiedi di centrare il documento</translation>
    </message>
    <message>
        <source>Hold still</source>
        <translation>Tieni fermo</translation>
    </message>
    <message>
        <source>Tilt to avoid reflections</source>
        <translation>Inclina per evitare riflessi</translation>
    </message>
    <message>
        <source>Too dark: more light needed</source>
        <translation>Troppo scuro: serve più luce</translation>
    </message>
    <message>
        <source>Too bright: less light</source>
        <translation>Troppo chiaro: meno luce</translation>
    </message>
    <message>
        <source>Out of focus: hold still or clean the lens</source>
        <translation>Fuori fuoco: tieni fermo o pulisci l'obiettivo</translation>
    </message>
    <message>
        <source>OCR not available</source>
        <translation>OCR non disponibile</translation>
    </message>
    <message>
        <source>MRZ reading failed</source>
        <translation>lettura MRZ non riuscita</translation>
    </message>
    <message>
        <source>barcode reading failed</source>
        <translation>lettura del codice a barre non riuscita</translation>
    </message>
    <message>
        <source>quality check failed</source>
        <translation>controllo qualità non riuscito</translation>
    </message>
    <message>
        <source>the still is not a readable image</source>
        <translation>la foto non è un'immagine leggibile</translation>
    </message>
    <message>
        <source>the check could not run</source>
        <translation>il controllo non è stato eseguito</translation>
    </message>
    <message>
        <source>face models not installed</source>
        <translation>modelli per i volti non installati</translation>
    </message>
    <message>
        <source>face comparison failed</source>
        <translation>confronto dei volti non riuscito</translation>
    </message>
    <message>
        <source>Virtual or fake camera name</source>
        <translation>Nome di videocamera virtuale o fittizia</translation>
    </message>
    <message>
        <source>Camera changed during the call</source>
        <translation>Videocamera cambiata durante la chiamata</translation>
    </message>
    <message>
        <source>Picture frozen</source>
        <translation>Immagine bloccata</translation>
    </message>
    <message>
        <source>Pictures repeat: a looped clip</source>
        <translation>Le immagini si ripetono: un filmato in loop</translation>
    </message>
    <message>
        <source>Frame timestamps from a synthetic clock (weak)</source>
        <translation>Tempi dei fotogrammi da un orologio sintetico (debole)</translation>
    </message>
    <message>
        <source>No camera sensor noise in the stills (weak)</source>
        <translation>Nessun rumore del sensore nelle foto (debole)</translation>
    </message>
    <message>
        <source>Challenges answered faster than a person reacts</source>
        <translation>Sfide eseguite più in fretta di quanto una persona reagisca</translation>
    </message>
    <message>
        <source>Challenges answered with a long delay</source>
        <translation>Sfide eseguite con un lungo ritardo</translation>
    </message>
    <message>
        <source>turn the head left</source>
        <translation>giri la testa a sinistra</translation>
    </message>
    <message>
        <source>turn the head right</source>
        <translation>giri la testa a destra</translation>
    </message>
    <message>
        <source>look up</source>
        <translation>guardi in alto</translation>
    </message>
    <message>
        <source>blink</source>
        <translation>chiuda e riapra gli occhi</translation>
    </message>
    <message>
        <source>move closer</source>
        <translation>si avvicini</translation>
    </message>
    <message>
        <source>passed</source>
        <translation>superata</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>non superata</translation>
    </message>
    <message>
        <source>inconclusive: repeat it</source>
        <translation>non conclusiva: ripeterla</translation>
    </message>
    <message>
        <source>waiting</source>
        <translation>in attesa</translation>
    </message>
    <message>
        <source>running</source>
        <translation>in corso</translation>
    </message>
    <message>
        <source>not done yet</source>
        <translation>non ancora eseguita</translation>
    </message>
    <message>
        <source>not shown on the applicant's screen: repeat it</source>
        <translation>non mostrata sullo schermo del richiedente: ripeterla</translation>
    </message>
</context>
<context>
    <name>FindingsPanel</name>
    <message>
        <source>Auto-capture</source>
        <translation>Scatto automatico</translation>
    </message>
    <message>
        <source>Ask for the still by itself when the document is steady, sharp and free of reflections</source>
        <translation>Chiede la foto da solo quando il documento è fermo, nitido e senza riflessi</translation>
    </message>
    <message>
        <source>Check</source>
        <translation>Controllo</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>Esito</translation>
    </message>
    <message>
        <source>Security features to check</source>
        <translation>Elementi di sicurezza da verificare</translation>
    </message>
    <message>
        <source>Automated checks: waiting for the first still.</source>
        <translation>Controlli automatici: in attesa della prima foto.</translation>
    </message>
    <message>
        <source>Still: %1</source>
        <translation>Foto: %1</translation>
    </message>
    <message>
        <source>Picture quality</source>
        <translation>Qualità dell'immagine</translation>
    </message>
    <message>
        <source>Document</source>
        <translation>Documento</translation>
    </message>
    <message>
        <source>not found in the still</source>
        <translation>non trovato nella foto</translation>
    </message>
    <message>
        <source>MRZ (%1) check digits</source>
        <translation>Cifre di controllo MRZ (%1)</translation>
    </message>
    <message>
        <source>MRZ %1</source>
        <translation>MRZ %1</translation>
    </message>
    <message>
        <source>unsure: %1</source>
        <translation>incerto: %1</translation>
    </message>
    <message>
        <source>Validity</source>
        <translation>Validità</translation>
    </message>
    <message>
        <source>MRZ</source>
        <translation>MRZ</translation>
    </message>
    <message>
        <source>not found</source>
        <translation>non trovata</translation>
    </message>
    <message>
        <source>Codice fiscale (barcode)</source>
        <translation>Codice fiscale (codice a barre)</translation>
    </message>
    <message>
        <source>Codice fiscale: %1</source>
        <translation>Codice fiscale: %1</translation>
    </message>
    <message>
        <source>not read</source>
        <translation>non letto</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>Errore</translation>
    </message>
    <message>
        <source>differs: %1</source>
        <translation>diverso: %1</translation>
    </message>
    <message>
        <source>Face: document photo vs live</source>
        <translation>Volto: foto del documento e ripresa dal vivo</translation>
    </message>
    <message>
        <source>Automated comparison</source>
        <translation>Confronto automatico</translation>
    </message>
    <message>
        <source>Similarity</source>
        <translation>Somiglianza</translation>
    </message>
    <message>
        <source>Document photo</source>
        <translation>Foto del documento</translation>
    </message>
    <message>
        <source>no face found</source>
        <translation>nessun volto trovato</translation>
    </message>
    <message>
        <source>Live picture</source>
        <translation>Ripresa dal vivo</translation>
    </message>
    <message>
        <source>%1 faces: a third person is present</source>
        <translation>%1 volti: è presente una terza persona</translation>
    </message>
    <message>
        <source>Camera: injection signals</source>
        <translation>Videocamera: segnali di iniezione</translation>
    </message>
    <message>
        <source>Overridden by the operator</source>
        <translation>Superato dall'operatore</translation>
    </message>
    <message>
        <source>none</source>
        <translation>nessuno</translation>
    </message>
    <message>
        <source>one weak signal: not suspected</source>
        <translation>un solo segnale debole: non sospetto</translation>
    </message>
    <message>
        <source>suspected, overridden</source>
        <translation>sospetta, superata</translation>
    </message>
    <message>
        <source>suspected</source>
        <translation>sospetta</translation>
    </message>
    <message>
        <source>Liveness (random challenges)</source>
        <translation>Vitalità (sfide casuali)</translation>
    </message>
    <message>
        <source>Confirmed by supervisor</source>
        <translation>Confermato dal supervisore</translation>
    </message>
    <message>
        <source>The automated comparison says the face is a different person. Approval needs a supervisor's second look; rejection is always possible.</source>
        <translation>Il confronto automatico indica che il volto è di un'altra persona. Per approvare serve la seconda verifica di un supervisore; il rifiuto è sempre possibile.</translation>
    </message>
    <message>
        <source>Face difference confirmed by supervisor %1.</source>
        <translation>Differenza del volto verificata dal supervisore %1.</translation>
    </message>
    <message>
        <source>%1: ready to capture</source>
        <translation>%1: pronto per lo scatto</translation>
    </message>
    <message>
        <source>%1: checking the picture…</source>
        <translation>%1: controllo dell'immagine…</translation>
    </message>
    <message>
        <source> (optically variable)</source>
        <translation> (otticamente variabile)</translation>
    </message>
    <message>
        <source>Ask</source>
        <translation>Chiedi</translation>
    </message>
    <message>
        <source>Show the movement to the applicant</source>
        <translation>Mostra il movimento al richiedente</translation>
    </message>
    <message>
        <source>Capture</source>
        <translation>Scatta</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>Not OK</source>
        <translation>Non OK</translation>
    </message>
    <message>
        <source>waiting…</source>
        <translation>in attesa…</translation>
    </message>
    <message>
        <source>capture failed</source>
        <translation>scatto non riuscito</translation>
    </message>
    <message>
        <source>still %1×%2</source>
        <translation>foto %1×%2</translation>
    </message>
</context>
<context>
    <name>InPerson</name>
    <message>
        <source>The smart-card service (pcscd) is not running. Start it with 'sudo systemctl start pcscd' (or 'sudo pcscd').</source>
        <translation>Il servizio delle smart card (pcscd) non è attivo. Avvialo con 'sudo systemctl start pcscd' (oppure 'sudo pcscd').</translation>
    </message>
    <message>
        <source>No card reader is connected.</source>
        <translation>Nessun lettore di smart card collegato.</translation>
    </message>
    <message>
        <source>The card reader is not connected.</source>
        <translation>Il lettore di smart card non è collegato.</translation>
    </message>
    <message>
        <source>The card reader was unplugged.</source>
        <translation>Il lettore di smart card è stato scollegato.</translation>
    </message>
    <message>
        <source>Insert the Tessera Sanitaria in the reader.</source>
        <translation>Inserisci la Tessera Sanitaria nel lettore.</translation>
    </message>
    <message>
        <source>The card was removed while being read: nothing was kept. Insert it again.</source>
        <translation>La tessera è stata estratta durante la lettura: non è stato conservato nulla. Inseriscila di nuovo.</translation>
    </message>
    <message>
        <source>The card does not answer. Check that it is inserted the right way.</source>
        <translation>La tessera non risponde. Controlla che sia inserita nel verso giusto.</translation>
    </message>
    <message>
        <source>This card is not a Tessera Sanitaria / CNS.</source>
        <translation>Questa tessera non è una Tessera Sanitaria / CNS.</translation>
    </message>
    <message>
        <source>The card refuses to be read without a PIN.</source>
        <translation>La tessera non si lascia leggere senza PIN.</translation>
    </message>
    <message>
        <source>The personal data on the card are unreadable (malformed file).</source>
        <translation>I dati personali sulla tessera sono illeggibili (file malformato).</translation>
    </message>
    <message>
        <source>The card number on the card is unreadable.</source>
        <translation>Il numero della tessera è illeggibile.</translation>
    </message>
    <message>
        <source>The certificate on the card is unreadable (malformed).</source>
        <translation>Il certificato sulla tessera è illeggibile (malformato).</translation>
    </message>
    <message>
        <source>The card could not be read.</source>
        <translation>Non è stato possibile leggere la tessera.</translation>
    </message>
    <message>
        <source>Codice fiscale differs from the request</source>
        <translation>Il codice fiscale è diverso da quello della pratica</translation>
    </message>
    <message>
        <source>Codice fiscale in the certificate differs from the card data</source>
        <translation>Il codice fiscale del certificato è diverso da quello dei dati della tessera</translation>
    </message>
    <message>
        <source>Card number in the certificate differs from the card</source>
        <translation>Il numero di tessera nel certificato è diverso da quello della tessera</translation>
    </message>
    <message>
        <source>Surname differs from the request</source>
        <translation>Il cognome è diverso da quello della pratica</translation>
    </message>
    <message>
        <source>Given names differ from the request</source>
        <translation>Il nome è diverso da quello della pratica</translation>
    </message>
    <message>
        <source>Date of birth differs from the request</source>
        <translation>La data di nascita è diversa da quella della pratica</translation>
    </message>
    <message>
        <source>The card is expired</source>
        <translation>La tessera è scaduta</translation>
    </message>
    <message>
        <source>The CNS certificate is expired</source>
        <translation>Il certificato CNS è scaduto</translation>
    </message>
    <message>
        <source>This Tessera Sanitaria carries no CNS certificate (the data are still checked)</source>
        <translation>Questa Tessera Sanitaria non contiene il certificato CNS (i dati sono comunque verificati)</translation>
    </message>
    <message>
        <source>Look the request up by its booking code</source>
        <translation>Cerca la pratica con il codice di prenotazione</translation>
    </message>
    <message>
        <source>Read the Tessera Sanitaria</source>
        <translation>Leggi la Tessera Sanitaria</translation>
    </message>
    <message>
        <source>The card does not match the request</source>
        <translation>La tessera non corrisponde alla pratica</translation>
    </message>
    <message>
        <source>The Tessera Sanitaria is expired</source>
        <translation>La Tessera Sanitaria è scaduta</translation>
    </message>
    <message>
        <source>The identity document is expired</source>
        <translation>Il documento d'identità è scaduto</translation>
    </message>
    <message>
        <source>The document's MRZ does not match the request</source>
        <translation>La MRZ del documento non corrisponde alla pratica</translation>
    </message>
    <message>
        <source>Take the photo of the person</source>
        <translation>Scatta la foto della persona</translation>
    </message>
    <message>
        <source>Complete the script steps</source>
        <translation>Completa i passi del copione</translation>
    </message>
    <message>
        <source>Already decided</source>
        <translation>Già decisa</translation>
    </message>
    <message>
        <source>No request has this booking code.</source>
        <translation>Nessuna pratica ha questo codice di prenotazione.</translation>
    </message>
    <message>
        <source>This request is already decided.</source>
        <translation>Questa pratica è già stata decisa.</translation>
    </message>
    <message>
        <source>Finish the current request first.</source>
        <translation>Concludi prima la pratica in corso.</translation>
    </message>
    <message>
        <source>Look the request up first.</source>
        <translation>Cerca prima la pratica.</translation>
    </message>
    <message>
        <source>Read the Tessera Sanitaria first.</source>
        <translation>Leggi prima la Tessera Sanitaria.</translation>
    </message>
    <message>
        <source>The card does not match the request.</source>
        <translation>La tessera non corrisponde alla pratica.</translation>
    </message>
    <message>
        <source>The identity document is expired.</source>
        <translation>Il documento d'identità è scaduto.</translation>
    </message>
    <message>
        <source>The picture is not usable; take it again.</source>
        <translation>La foto non è utilizzabile: scattala di nuovo.</translation>
    </message>
    <message>
        <source>Unknown picture kind.</source>
        <translation>Tipo di foto sconosciuto.</translation>
    </message>
    <message>
        <source>The camera is not available.</source>
        <translation>La fotocamera non è disponibile.</translation>
    </message>
    <message>
        <source>Approval is blocked: see the list of what is missing.</source>
        <translation>L'approvazione è bloccata: vedi l'elenco di ciò che manca.</translation>
    </message>
</context>
<context>
    <name>InPersonWindow</name>
    <message>
        <source>In-person identification</source>
        <translation>Identificazione di persona</translation>
    </message>
    <message>
        <source>Booking code</source>
        <translation>Codice di prenotazione</translation>
    </message>
    <message>
        <source>Find request</source>
        <translation>Cerca pratica</translation>
    </message>
    <message>
        <source>Booking code:</source>
        <translation>Codice di prenotazione:</translation>
    </message>
    <message>
        <source>Request</source>
        <translation>Pratica</translation>
    </message>
    <message>
        <source>Service</source>
        <translation>Servizio</translation>
    </message>
    <message>
        <source>Applicant</source>
        <translation>Richiedente</translation>
    </message>
    <message>
        <source>Codice fiscale</source>
        <translation>Codice fiscale</translation>
    </message>
    <message>
        <source>Date of birth</source>
        <translation>Data di nascita</translation>
    </message>
    <message>
        <source>Document</source>
        <translation>Documento</translation>
    </message>
    <message>
        <source>Tessera Sanitaria / CNS</source>
        <translation>Tessera Sanitaria / CNS</translation>
    </message>
    <message>
        <source>Insert the Tessera Sanitaria in the reader.</source>
        <translation>Inserisci la Tessera Sanitaria nel lettore.</translation>
    </message>
    <message>
        <source>Card number</source>
        <translation>Numero tessera</translation>
    </message>
    <message>
        <source>Holder</source>
        <translation>Titolare</translation>
    </message>
    <message>
        <source>Expiry</source>
        <translation>Scadenza</translation>
    </message>
    <message>
        <source>CNS certificate</source>
        <translation>Certificato CNS</translation>
    </message>
    <message>
        <source>Read card</source>
        <translation>Leggi tessera</translation>
    </message>
    <message>
        <source>Pictures</source>
        <translation>Foto</translation>
    </message>
    <message>
        <source>not taken</source>
        <translation>non scattata</translation>
    </message>
    <message>
        <source>Print the request form (PDF)</source>
        <translation>Stampa il modulo di richiesta (PDF)</translation>
    </message>
    <message>
        <source>Script (AgID art. 7)</source>
        <translation>Copione (AgID art. 7)</translation>
    </message>
    <message>
        <source>Decision</source>
        <translation>Decisione</translation>
    </message>
    <message>
        <source>Still missing for approval:</source>
        <translation>Manca ancora per approvare:</translation>
    </message>
    <message>
        <source>Approve</source>
        <translation>Approva</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>Nota</translation>
    </message>
    <message>
        <source>Reject</source>
        <translation>Respingi</translation>
    </message>
    <message>
        <source>Suspend</source>
        <translation>Sospendi</translation>
    </message>
    <message>
        <source>Unexpected error; the action was not completed.</source>
        <translation>Errore imprevisto: l'azione non è stata completata.</translation>
    </message>
    <message>
        <source>Type the booking code.</source>
        <translation>Digita il codice di prenotazione.</translation>
    </message>
    <message>
        <source>Looking the request up…</source>
        <translation>Ricerca della pratica…</translation>
    </message>
    <message>
        <source>Request found. Read the card and take the pictures.</source>
        <translation>Pratica trovata. Leggi la tessera e scatta le foto.</translation>
    </message>
    <message>
        <source>Reading the card…</source>
        <translation>Lettura della tessera…</translation>
    </message>
    <message>
        <source>poor picture: take it again</source>
        <translation>foto scadente: scattala di nuovo</translation>
    </message>
    <message>
        <source>no document found</source>
        <translation>nessun documento trovato</translation>
    </message>
    <message>
        <source>MRZ check digits wrong</source>
        <translation>cifre di controllo della MRZ errate</translation>
    </message>
    <message>
        <source>MRZ differs from the request</source>
        <translation>la MRZ è diversa dalla pratica</translation>
    </message>
    <message>
        <source>ok</source>
        <translation>ok</translation>
    </message>
    <message>
        <source>Form saved: %1</source>
        <translation>Modulo salvato: %1</translation>
    </message>
    <message>
        <source>Decision recorded: %1</source>
        <translation>Decisione registrata: %1</translation>
    </message>
    <message>
        <source>Decision kept (%1): it will be sent when the desk service answers.</source>
        <translation>Decisione conservata (%1): sarà inviata appena il servizio risponde.</translation>
    </message>
    <message>
        <source>Done. Type the next booking code.</source>
        <translation>Fatto. Digita il prossimo codice di prenotazione.</translation>
    </message>
    <message>
        <source>Card inserted. Look the request up first.</source>
        <translation>Tessera inserita. Cerca prima la pratica.</translation>
    </message>
    <message>
        <source>present</source>
        <translation>presente</translation>
    </message>
    <message>
        <source>absent</source>
        <translation>assente</translation>
    </message>
    <message>
        <source>Card read: it matches the request.</source>
        <translation>Tessera letta: corrisponde alla pratica.</translation>
    </message>
    <message>
        <source>Card read: it does NOT match the request.</source>
        <translation>Tessera letta: NON corrisponde alla pratica.</translation>
    </message>
    <message>
        <source>Confirm</source>
        <translation>Conferma</translation>
    </message>
</context>
<context>
    <name>LogView</name>
    <message>
        <source>Console log</source>
        <translation>Registro della console</translation>
    </message>
    <message>
        <source>Debug</source>
        <translation>Debug</translation>
    </message>
    <message>
        <source>Information</source>
        <translation>Informazioni</translation>
    </message>
    <message>
        <source>Warnings</source>
        <translation>Avvisi</translation>
    </message>
    <message>
        <source>Errors</source>
        <translation>Errori</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>Svuota</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Chiudi</translation>
    </message>
    <message>
        <source>Show:</source>
        <translation>Mostra:</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Recognition console</source>
        <translation>Console di riconoscimento</translation>
    </message>
    <message>
        <source>&amp;Console</source>
        <translation>&amp;Console</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>Impostazioni…</translation>
    </message>
    <message>
        <source>Log…</source>
        <translation>Registro…</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Esci</translation>
    </message>
    <message>
        <source>Signed in: %1 (%2)</source>
        <translation>Connesso: %1 (%2)</translation>
    </message>
    <message>
        <source>Applicant assigned.</source>
        <translation>Richiedente assegnato.</translation>
    </message>
    <message>
        <source>Decision recorded: %1</source>
        <translation>Decisione registrata: %1</translation>
    </message>
    <message>
        <source>Desk service unreachable: the decision is kept and sent automatically later.</source>
        <translation>Servizio non raggiungibile: la decisione è conservata e verrà inviata automaticamente.</translation>
    </message>
    <message>
        <source>Evidence package sealed: it is uploaded in the background and kept on this computer until the desk service has it.</source>
        <translation>Pacchetto di evidenze sigillato: viene caricato in background e resta su questo computer finché il servizio non lo ha ricevuto.</translation>
    </message>
    <message>
        <source>The evidence package could not be completed: see the log.</source>
        <translation>Non è stato possibile completare il pacchetto delle evidenze: vedi il registro.</translation>
    </message>
    <message>
        <source>Decision not sent</source>
        <translation>Decisione non inviata</translation>
    </message>
</context>
<context>
    <name>Messages</name>
    <message>
        <source>Wrong user name or password.</source>
        <translation>Nome utente o password errati.</translation>
    </message>
    <message>
        <source>The one-time code from the authenticator app is wrong or expired.</source>
        <translation>Il codice dell'app di autenticazione è errato o scaduto.</translation>
    </message>
    <message>
        <source>Account locked after too many failed attempts, until %1.</source>
        <translation>Account bloccato per troppi tentativi falliti, fino alle %1.</translation>
    </message>
    <message>
        <source>Account locked after too many failed attempts. Try again later.</source>
        <translation>Account bloccato per troppi tentativi falliti. Riprova più tardi.</translation>
    </message>
    <message>
        <source>The desk service cannot be reached. Check the address and the network.</source>
        <translation>Il servizio non è raggiungibile. Controlla l'indirizzo e la rete.</translation>
    </message>
    <message>
        <source>The server's TLS certificate is not trusted: check the address or the CA bundle.</source>
        <translation>Il certificato TLS del server non è attendibile: controlla l'indirizzo o il bundle CA.</translation>
    </message>
    <message>
        <source>Your session has expired. Please sign in again.</source>
        <translation>La sessione è scaduta. Accedi di nuovo.</translation>
    </message>
    <message>
        <source>Your account is not allowed to do this.</source>
        <translation>Il tuo account non è autorizzato a questa operazione.</translation>
    </message>
    <message>
        <source>Not found on the desk service.</source>
        <translation>Non trovato sul servizio.</translation>
    </message>
    <message>
        <source>Some fields are not valid.</source>
        <translation>Alcuni campi non sono validi.</translation>
    </message>
    <message>
        <source>Too soon: wait a moment before trying again.</source>
        <translation>Troppo presto: attendi un momento prima di riprovare.</translation>
    </message>
    <message>
        <source>The desk service refuses the approval: it has not recorded everything an approval needs.</source>
        <translation>Il servizio rifiuta l'approvazione: non ha registrato tutto ciò che un'approvazione richiede.</translation>
    </message>
    <message>
        <source>This request is not assigned to you on the desk service.</source>
        <translation>Questa pratica non è assegnata a te sul servizio.</translation>
    </message>
    <message>
        <source>No more SMS codes can be sent for this request.</source>
        <translation>Non si possono inviare altri codici SMS per questa pratica.</translation>
    </message>
    <message>
        <source>This request has already been decided.</source>
        <translation>Questa pratica è già stata decisa.</translation>
    </message>
    <message>
        <source>The desk service had an internal problem. Try again shortly.</source>
        <translation>Il servizio ha avuto un problema interno. Riprova tra poco.</translation>
    </message>
    <message>
        <source>The desk service cannot store data right now: its disk is full or read-only. Evidence and decisions waiting on this computer are kept and sent again automatically; try other actions again later and tell the desk service's administrator.</source>
        <translation>Il servizio non può salvare dati in questo momento: il suo disco è pieno o in sola lettura. Le evidenze e le decisioni in attesa su questo computer sono conservate e inviate di nuovo automaticamente; riprova più tardi le altre operazioni e avvisa l'amministratore del servizio.</translation>
    </message>
    <message>
        <source>The desk service answered something unexpected.</source>
        <translation>Il servizio ha risposto in modo inatteso.</translation>
    </message>
    <message>
        <source>Required steps are not passed yet.</source>
        <translation>Ci sono passi obbligatori non ancora superati.</translation>
    </message>
    <message>
        <source>No system keyring is available: the password cannot be remembered.</source>
        <translation>Nessun portachiavi di sistema disponibile: la password non può essere ricordata.</translation>
    </message>
    <message>
        <source>The server address is not a valid http(s) URL.</source>
        <translation>L'indirizzo del server non è un URL http(s) valido.</translation>
    </message>
    <message>
        <source>Plain http:// is allowed only to this computer: use the https:// address of the desk service.</source>
        <translation>Il semplice http:// è ammesso solo verso questo computer: usa l'indirizzo https:// del servizio.</translation>
    </message>
    <message>
        <source>Fill in user name, password and the 6-digit code.</source>
        <translation>Inserisci nome utente, password e il codice di 6 cifre.</translation>
    </message>
    <message>
        <source>Nobody is waiting right now.</source>
        <translation>Al momento non c'è nessuno in attesa.</translation>
    </message>
    <message>
        <source>The applicant's camera is not available.</source>
        <translation>La videocamera del richiedente non è disponibile.</translation>
    </message>
    <message>
        <source>No answer in time.</source>
        <translation>Nessuna risposta in tempo utile.</translation>
    </message>
    <message>
        <source>The call is not connected.</source>
        <translation>La chiamata non è collegata.</translation>
    </message>
    <message>
        <source>The media engine is not available on this installation.</source>
        <translation>Il motore audio/video non è disponibile in questa installazione.</translation>
    </message>
    <message>
        <source>Unexpected error (%1).</source>
        <translation>Errore imprevisto (%1).</translation>
    </message>
    <message>
        <source>Excellent</source>
        <translation>Ottima</translation>
    </message>
    <message>
        <source>Good</source>
        <translation>Buona</translation>
    </message>
    <message>
        <source>Poor</source>
        <translation>Scarsa</translation>
    </message>
    <message>
        <source>Lost</source>
        <translation>Persa</translation>
    </message>
    <message>
        <source>Measuring…</source>
        <translation>In misurazione…</translation>
    </message>
    <message>
        <source>To do</source>
        <translation>Da fare</translation>
    </message>
    <message>
        <source>Passed</source>
        <translation>Superato</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Fallito</translation>
    </message>
    <message>
        <source>Skipped</source>
        <translation>Saltato</translation>
    </message>
    <message>
        <source>Approve</source>
        <translation>Approva</translation>
    </message>
    <message>
        <source>Reject</source>
        <translation>Respingi</translation>
    </message>
    <message>
        <source>Suspend</source>
        <translation>Sospendi</translation>
    </message>
    <message>
        <source>All checks passed</source>
        <translation>Tutti i controlli superati</translation>
    </message>
    <message>
        <source>Document expired</source>
        <translation>Documento scaduto</translation>
    </message>
    <message>
        <source>Document damaged or unreadable</source>
        <translation>Documento danneggiato o illeggibile</translation>
    </message>
    <message>
        <source>Data do not match</source>
        <translation>I dati non corrispondono</translation>
    </message>
    <message>
        <source>Poor video quality</source>
        <translation>Qualità video insufficiente</translation>
    </message>
    <message>
        <source>Poor audio quality</source>
        <translation>Qualità audio insufficiente</translation>
    </message>
    <message>
        <source>Applicant refused to continue</source>
        <translation>Il richiedente ha rifiutato di proseguire</translation>
    </message>
    <message>
        <source>Suspected fraud</source>
        <translation>Sospetta frode</translation>
    </message>
    <message>
        <source>A third person is present</source>
        <translation>È presente una terza persona</translation>
    </message>
    <message>
        <source>SMS code not verified</source>
        <translation>Codice SMS non verificato</translation>
    </message>
    <message>
        <source>Face does not match the document</source>
        <translation>Il volto non corrisponde al documento</translation>
    </message>
    <message>
        <source>Connection lost</source>
        <translation>Connessione persa</translation>
    </message>
    <message>
        <source>Other (explain in the note)</source>
        <translation>Altro (spiegare nella nota)</translation>
    </message>
    <message>
        <source>SPID (personal)</source>
        <translation>SPID (uso personale)</translation>
    </message>
    <message>
        <source>SPID (professional)</source>
        <translation>SPID (uso professionale)</translation>
    </message>
    <message>
        <source>Digital signature</source>
        <translation>Firma digitale</translation>
    </message>
    <message>
        <source>CNS</source>
        <translation>CNS</translation>
    </message>
    <message>
        <source>the applicant's consent</source>
        <translation>il consenso del richiedente</translation>
    </message>
    <message>
        <source>a verified SMS code in this session</source>
        <translation>un codice SMS verificato in questa sessione</translation>
    </message>
    <message>
        <source>the confirmed e-mail address</source>
        <translation>l'indirizzo e-mail confermato</translation>
    </message>
    <message>
        <source>the session's recording, uploaded</source>
        <translation>la registrazione della sessione, caricata</translation>
    </message>
    <message>
        <source>the card read or the document checks</source>
        <translation>la lettura della carta o i controlli del documento</translation>
    </message>
    <message>
        <source>the signed form</source>
        <translation>il modulo firmato</translation>
    </message>
    <message>
        <source>the capture: %1</source>
        <translation>la cattura: %1</translation>
    </message>
    <message>
        <source>Still missing:</source>
        <translation>Manca ancora:</translation>
    </message>
</context>
<context>
    <name>OtpPanel</name>
    <message>
        <source>SMS code</source>
        <translation>Codice SMS</translation>
    </message>
    <message>
        <source>Send code</source>
        <translation>Invia codice</translation>
    </message>
    <message>
        <source>code read by the applicant</source>
        <translation>codice letto dal richiedente</translation>
    </message>
    <message>
        <source>Verify</source>
        <translation>Verifica</translation>
    </message>
    <message>
        <source>Not sent yet.</source>
        <translation>Non ancora inviato.</translation>
    </message>
    <message>
        <source>Send again</source>
        <translation>Invia di nuovo</translation>
    </message>
    <message>
        <source>Code sent. Attempts left: %1</source>
        <translation>Codice inviato. Tentativi rimasti: %1</translation>
    </message>
    <message>
        <source>Code verified.</source>
        <translation>Codice verificato.</translation>
    </message>
    <message>
        <source>Wrong code: no attempts left. The step is failed.</source>
        <translation>Codice errato: tentativi esauriti. Il passo è fallito.</translation>
    </message>
    <message>
        <source>Wrong code. Attempts left: %1</source>
        <translation>Codice errato. Tentativi rimasti: %1</translation>
    </message>
    <message>
        <source>Applicant said: %1</source>
        <translation>Il richiedente ha detto: %1</translation>
    </message>
    <message>
        <source>Sending…</source>
        <translation>Invio in corso…</translation>
    </message>
    <message>
        <source>The code has 6 digits.</source>
        <translation>Il codice ha 6 cifre.</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>Verifica in corso…</translation>
    </message>
</context>
<context>
    <name>PlayerWindow</name>
    <message>
        <source>Session player — %1</source>
        <translation>Riproduzione della sessione — %1</translation>
    </message>
    <message>
        <source>Applicant</source>
        <translation>Richiedente</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>Operatore</translation>
    </message>
    <message>
        <source>Play</source>
        <translation>Riproduci</translation>
    </message>
    <message>
        <source>Previous frame (Left)</source>
        <translation>Fotogramma precedente (Sinistra)</translation>
    </message>
    <message>
        <source>Next frame (Right)</source>
        <translation>Fotogramma successivo (Destra)</translation>
    </message>
    <message>
        <source>Zoom on the applicant's video (+/-)</source>
        <translation>Ingrandimento del video del richiedente (+/-)</translation>
    </message>
    <message>
        <source>Zoom</source>
        <translation>Ingrandimento</translation>
    </message>
    <message>
        <source>Trainer's notes (saved beside the package)</source>
        <translation>Note del formatore (salvate accanto al pacchetto)</translation>
    </message>
    <message>
        <source>Note at the current moment</source>
        <translation>Nota in questo punto</translation>
    </message>
    <message>
        <source>Add note</source>
        <translation>Aggiungi nota</translation>
    </message>
    <message>
        <source>The note could not be saved.</source>
        <translation>Non è stato possibile salvare la nota.</translation>
    </message>
    <message>
        <source>Note saved.</source>
        <translation>Nota salvata.</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>Pausa</translation>
    </message>
    <message>
        <source>The recording cannot be played.</source>
        <translation>La registrazione non può essere riprodotta.</translation>
    </message>
    <message>
        <source>Session player</source>
        <translation>Riproduzione della sessione</translation>
    </message>
    <message>
        <source>There is no such package.</source>
        <translation>Questo pacchetto non esiste.</translation>
    </message>
    <message>
        <source>This package is sealed: the reviewer's key is needed.</source>
        <translation>Il pacchetto è sigillato: serve la chiave del revisore.</translation>
    </message>
    <message>
        <source>The package could not be decrypted with this key.</source>
        <translation>Non è stato possibile decifrare il pacchetto con questa chiave.</translation>
    </message>
    <message>
        <source>This is not an evidence package.</source>
        <translation>Questo non è un pacchetto di evidenze.</translation>
    </message>
    <message>
        <source>The package has no playable recording.</source>
        <translation>Il pacchetto non contiene una registrazione riproducibile.</translation>
    </message>
</context>
<context>
    <name>QualityIndicator</name>
    <message>
        <source>Network: %1</source>
        <translation>Rete: %1</translation>
    </message>
    <message>
        <source>loss</source>
        <translation>perdita</translation>
    </message>
</context>
<context>
    <name>QueueView</name>
    <message>
        <source>Waiting applicants</source>
        <translation>Richiedenti in attesa</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Prodotto</translation>
    </message>
    <message>
        <source>Waiting since</source>
        <translation>In attesa dalle</translation>
    </message>
    <message>
        <source>Wait</source>
        <translation>Attesa</translation>
    </message>
    <message>
        <source>Appointment</source>
        <translation>Appuntamento</translation>
    </message>
    <message>
        <source>Take next applicant</source>
        <translation>Prendi il prossimo richiedente</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>Aggiorna</translation>
    </message>
    <message>
        <source>Nobody waiting</source>
        <translation>Nessuno in attesa</translation>
    </message>
    <message numerus="yes">
        <source>%n waiting</source>
        <translation>
            <numerusform>%n in attesa</numerusform>
            <numerusform>%n in attesa</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n appointments today</source>
        <translation>
            <numerusform>%n appuntamento oggi</numerusform>
            <numerusform>%n appuntamenti oggi</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ReviewWindow</name>
    <message>
        <source>Recognition console — review</source>
        <extracomment>emitted after each load (tests, benchmarks): what was loaded</extracomment>
        <translation>Console di riconoscimento — revisione</translation>
    </message>
    <message>
        <source>Requests</source>
        <translation>Richieste</translation>
    </message>
    <message>
        <source>Evidence</source>
        <translation>Evidenze</translation>
    </message>
    <message>
        <source>Suspended</source>
        <translation>Sospese</translation>
    </message>
    <message>
        <source>In call</source>
        <translation>In chiamata</translation>
    </message>
    <message>
        <source>Waiting</source>
        <translation>In attesa</translation>
    </message>
    <message>
        <source>Rejected</source>
        <translation>Respinte</translation>
    </message>
    <message>
        <source>Approved</source>
        <translation>Approvate</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>Aggiorna</translation>
    </message>
    <message>
        <source>State:</source>
        <translation>Stato:</translation>
    </message>
    <message>
        <source>Applicant</source>
        <translation>Richiedente</translation>
    </message>
    <message>
        <source>Service</source>
        <translation>Servizio</translation>
    </message>
    <message>
        <source>Booking code</source>
        <translation>Codice di prenotazione</translation>
    </message>
    <message>
        <source>Registered</source>
        <translation>Registrata</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>Caricamento…</translation>
    </message>
    <message numerus="yes">
        <source>%n request(s)</source>
        <translation>
            <numerusform>%n richiesta</numerusform>
            <numerusform>%n richieste</numerusform>
        </translation>
    </message>
    <message>
        <source>Search</source>
        <translation>Cerca</translation>
    </message>
    <message>
        <source>Stored on:</source>
        <translation>Archiviate il:</translation>
    </message>
    <message>
        <source>Stored</source>
        <translation>Archiviato</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>Operatore</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Dimensione</translation>
    </message>
    <message numerus="yes">
        <source>%n package(s)</source>
        <translation>
            <numerusform>%n pacchetto</numerusform>
            <numerusform>%n pacchetti</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Script</name>
    <message>
        <source>Consent to recording and 20-year retention</source>
        <translation>Consenso alla registrazione e alla conservazione ventennale</translation>
    </message>
    <message>
        <source>Operator states their identity</source>
        <translation>L'operatore dichiara la propria identità</translation>
    </message>
    <message>
        <source>Applicant confirms personal data</source>
        <translation>Il richiedente conferma i dati anagrafici</translation>
    </message>
    <message>
        <source>Applicant states date and time</source>
        <translation>Il richiedente dichiara data e ora</translation>
    </message>
    <message>
        <source>Applicant confirms the will to obtain the identity</source>
        <translation>Il richiedente conferma la volontà di ottenere l'identità</translation>
    </message>
    <message>
        <source>Applicant confirms mobile and e-mail</source>
        <translation>Il richiedente conferma cellulare ed e-mail</translation>
    </message>
    <message>
        <source>SMS code read back (and e-mail link)</source>
        <translation>Codice SMS letto (e link e-mail)</translation>
    </message>
    <message>
        <source>Applicant knows the kinds of credentials</source>
        <translation>Il richiedente conosce i tipi di credenziali</translation>
    </message>
    <message>
        <source>Identity document, front and back</source>
        <translation>Documento d'identità, fronte e retro</translation>
    </message>
    <message>
        <source>Tessera Sanitaria shown</source>
        <translation>Tessera Sanitaria mostrata</translation>
    </message>
    <message>
        <source>Applicant accepts the terms</source>
        <translation>Il richiedente accetta le condizioni</translation>
    </message>
    <message>
        <source>Random action</source>
        <translation>Azione casuale</translation>
    </message>
    <message>
        <source>Operator summarises, applicant confirms</source>
        <translation>L'operatore riepiloga, il richiedente conferma</translation>
    </message>
    <message>
        <source>Face to the camera</source>
        <translation>Volto verso la videocamera</translation>
    </message>
    <message>
        <source>Signed request form</source>
        <translation>Modulo di richiesta firmato</translation>
    </message>
    <message>
        <source>Document intact and valid</source>
        <translation>Documento integro e valido</translation>
    </message>
    <message>
        <source>Codice fiscale checked on the card</source>
        <translation>Codice fiscale verificato sulla tessera</translation>
    </message>
    <message>
        <source>Front</source>
        <translation>Fronte</translation>
    </message>
    <message>
        <source>Back</source>
        <translation>Retro</translation>
    </message>
    <message>
        <source>Card</source>
        <translation>Tessera</translation>
    </message>
    <message>
        <source>Face</source>
        <translation>Volto</translation>
    </message>
    <message>
        <source>Form</source>
        <translation>Modulo</translation>
    </message>
    <message>
        <source>Raise the right hand</source>
        <translation>Alzare la mano destra</translation>
    </message>
    <message>
        <source>Raise the left hand</source>
        <translation>Alzare la mano sinistra</translation>
    </message>
    <message>
        <source>Turn the head to the left</source>
        <translation>Girare la testa a sinistra</translation>
    </message>
    <message>
        <source>Turn the head to the right</source>
        <translation>Girare la testa a destra</translation>
    </message>
    <message>
        <source>Touch the nose with the index finger</source>
        <translation>Toccarsi il naso con l'indice</translation>
    </message>
    <message>
        <source>Show three fingers</source>
        <translation>Mostrare tre dita</translation>
    </message>
    <message>
        <source>Cover the left eye</source>
        <translation>Coprirsi l'occhio sinistro</translation>
    </message>
    <message>
        <source>Look up, then back at the camera</source>
        <translation>Guardare in alto, poi di nuovo la videocamera</translation>
    </message>
    <message>
        <source>Touch the right ear</source>
        <translation>Toccarsi l'orecchio destro</translation>
    </message>
    <message>
        <source>Nod twice</source>
        <translation>Annuire due volte</translation>
    </message>
</context>
<context>
    <name>ScriptChecklist</name>
    <message>
        <source>Ask the applicant's camera for a full-resolution still</source>
        <translation>Chiedi alla videocamera del richiedente uno scatto a piena risoluzione</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>Passo</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Ora</translation>
    </message>
    <message>
        <source>↑/↓ move · Space/Enter passed · F failed · S skip · C capture</source>
        <translation>↑/↓ sposta · Spazio/Invio superato · F fallito · S salta · C scatta</translation>
    </message>
    <message>
        <source>(optional)</source>
        <translation>(facoltativo)</translation>
    </message>
    <message>
        <source>waiting…</source>
        <translation>in attesa…</translation>
    </message>
</context>
<context>
    <name>SessionWindow</name>
    <message>
        <source>Waiting for the applicant's video…</source>
        <translation>In attesa del video del richiedente…</translation>
    </message>
    <message>
        <source>Your camera</source>
        <translation>La tua videocamera</translation>
    </message>
    <message>
        <source>Call</source>
        <translation>Chiama</translation>
    </message>
    <message>
        <source>Mute</source>
        <translation>Disattiva microfono</translation>
    </message>
    <message>
        <source>Camera off</source>
        <translation>Spegni videocamera</translation>
    </message>
    <message>
        <source>Hang up</source>
        <translation>Riaggancia</translation>
    </message>
    <message>
        <source>Decision…</source>
        <translation>Decisione…</translation>
    </message>
    <message>
        <source>Back to the queue</source>
        <translation>Torna alla coda</translation>
    </message>
    <message>
        <source>Show the random action to the applicant</source>
        <translation>Mostra l'azione casuale al richiedente</translation>
    </message>
    <message>
        <source>Check liveness (random challenges)</source>
        <translation>Verifica la vitalità (sfide casuali)</translation>
    </message>
    <message>
        <source>Script</source>
        <translation>Copione</translation>
    </message>
    <message>
        <source>session %1</source>
        <translation>sessione %1</translation>
    </message>
    <message>
        <source>Press "Call" to start the video call.</source>
        <translation>Premi "Chiama" per avviare la videochiamata.</translation>
    </message>
    <message>
        <source>Capture every still of this step first.</source>
        <translation>Prima acquisisci tutti gli scatti di questo passo.</translation>
    </message>
    <message>
        <source>The SMS code is not verified yet.</source>
        <translation>Il codice SMS non è ancora verificato.</translation>
    </message>
    <message>
        <source>A required step cannot be skipped.</source>
        <translation>Un passo obbligatorio non può essere saltato.</translation>
    </message>
    <message>
        <source>Ask the random action first.</source>
        <translation>Prima chiedi l'azione casuale.</translation>
    </message>
    <message>
        <source>Unmute</source>
        <translation>Riattiva microfono</translation>
    </message>
    <message>
        <source>Camera on</source>
        <translation>Accendi videocamera</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Connessione in corso…</translation>
    </message>
    <message>
        <source>Connected</source>
        <translation>Collegato</translation>
    </message>
    <message>
        <source>Reconnecting…</source>
        <translation>Riconnessione in corso…</translation>
    </message>
    <message>
        <source>Connection lost</source>
        <translation>Connessione persa</translation>
    </message>
    <message>
        <source>Call ended</source>
        <translation>Chiamata terminata</translation>
    </message>
    <message>
        <source>Call failed</source>
        <translation>Chiamata non riuscita</translation>
    </message>
    <message>
        <source>Connection lost. Waiting for the applicant: the call resumes by itself.</source>
        <translation>Connessione persa. In attesa del richiedente: la chiamata riprende da sola.</translation>
    </message>
    <message>
        <source>Call ended.</source>
        <translation>Chiamata terminata.</translation>
    </message>
    <message>
        <source>Disconnected</source>
        <translation>Disconnesso</translation>
    </message>
    <message>
        <source>The desk service no longer accepts your sign-in: the call was ended. Sign in again.</source>
        <translation>Il servizio non accetta più il tuo accesso: la chiamata è stata chiusa. Accedi di nuovo.</translation>
    </message>
    <message>
        <source>Reconnecting since %1…</source>
        <translation>Riconnessione in corso dalle %1…</translation>
    </message>
    <message>
        <source>Connection interrupted at %1: the console reconnects by itself and the call resumes when the connection is back.</source>
        <translation>Connessione interrotta alle %1: la console si ricollega da sola e la chiamata riprende quando la connessione torna.</translation>
    </message>
    <message>
        <source>No camera: the applicant sees a placeholder.</source>
        <translation>Nessuna videocamera: il richiedente vede un'immagine sostitutiva.</translation>
    </message>
    <message>
        <source>No microphone: the applicant hears silence.</source>
        <translation>Nessun microfono: il richiedente sente silenzio.</translation>
    </message>
    <message>
        <source>The applicant is not connected yet.</source>
        <translation>Il richiedente non è ancora collegato.</translation>
    </message>
    <message>
        <source>The media connection could not be established.</source>
        <translation>Non è stato possibile stabilire la connessione audio/video.</translation>
    </message>
    <message>
        <source>unreadable image</source>
        <translation>immagine illeggibile</translation>
    </message>
    <message>
        <source>The liveness check did not pass: approving asks for a supervisor's second look.</source>
        <translation>La verifica della vitalità non è superata: per approvare serve il controllo di un supervisore.</translation>
    </message>
    <message>
        <source>Run the liveness check first (random challenges).</source>
        <translation>Esegui prima la verifica della vitalità (sfide casuali).</translation>
    </message>
    <message>
        <source>The automated face comparison says different person: approving asks for a supervisor's second look.</source>
        <translation>Il confronto automatico dei volti indica una persona diversa: l'approvazione richiede la seconda verifica di un supervisore.</translation>
    </message>
    <message>
        <source>Signs of a virtual or injected camera: approving asks for the reason to go on, which is recorded.</source>
        <translation>Segni di una videocamera virtuale o di un video iniettato: per approvare va indicato il motivo per cui si procede, che viene registrato.</translation>
    </message>
    <message>
        <source>Camera injection suspected</source>
        <translation>Sospetta iniezione video</translation>
    </message>
    <message>
        <source>The applicant's camera shows signs of a virtual or injected video. Why can the approval go on? (recorded)</source>
        <translation>La videocamera del richiedente mostra segni di un video virtuale o iniettato. Perché si può procedere con l'approvazione? (viene registrato)</translation>
    </message>
    <message>
        <source>The liveness check needs the call connected.</source>
        <translation>La verifica della vitalità richiede la chiamata collegata.</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>Impostazioni</translation>
    </message>
    <message>
        <source>system certificates</source>
        <translation>certificati di sistema</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>Sfoglia…</translation>
    </message>
    <message>
        <source>General</source>
        <translation>Generale</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Lingua</translation>
    </message>
    <message>
        <source>The language changes for windows opened from now on.</source>
        <translation>La lingua cambia per le finestre aperte da ora in poi.</translation>
    </message>
    <message>
        <source>Devices</source>
        <translation>Dispositivi</translation>
    </message>
    <message>
        <source>Camera</source>
        <translation>Videocamera</translation>
    </message>
    <message>
        <source>Microphone</source>
        <translation>Microfono</translation>
    </message>
    <message>
        <source>Speaker</source>
        <translation>Altoparlante</translation>
    </message>
    <message>
        <source>Desk service</source>
        <translation>Servizio</translation>
    </message>
    <message>
        <source>Server URL</source>
        <translation>URL del server</translation>
    </message>
    <message>
        <source>CA bundle (PEM)</source>
        <translation>Bundle CA (PEM)</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>Salva</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Annulla</translation>
    </message>
    <message>
        <source>System default</source>
        <translation>Predefinito di sistema</translation>
    </message>
    <message>
        <source>No camera found: a placeholder is sent</source>
        <translation>Nessuna videocamera: viene inviata un'immagine sostitutiva</translation>
    </message>
    <message>
        <source>No microphone found: silence is sent</source>
        <translation>Nessun microfono: viene inviato silenzio</translation>
    </message>
    <message>
        <source>No speaker found</source>
        <translation>Nessun altoparlante</translation>
    </message>
    <message>
        <source>CA bundle</source>
        <translation>Bundle CA</translation>
    </message>
    <message>
        <source>Certificates (*.pem *.crt);;All files (*)</source>
        <translation>Certificati (*.pem *.crt);;Tutti i file (*)</translation>
    </message>
    <message>
        <source>The server address is not a valid http(s) URL.</source>
        <translation>L'indirizzo del server non è un URL http(s) valido.</translation>
    </message>
    <message>
        <source>The CA bundle file does not exist.</source>
        <translation>Il file del bundle CA non esiste.</translation>
    </message>
</context>
<context>
    <name>SignInWindow</name>
    <message>
        <source>Recognition console — sign in</source>
        <translation>Console di riconoscimento — accesso</translation>
    </message>
    <message>
        <source>INFOCERT · RECOGNITION DESK</source>
        <translation>INFOCERT · SPORTELLO DI RICONOSCIMENTO</translation>
    </message>
    <message>
        <source>Sign in</source>
        <translation>Accedi</translation>
    </message>
    <message>
        <source>Operator access to the remote recognition desk.</source>
        <translation>Accesso operatore allo sportello di riconoscimento a distanza.</translation>
    </message>
    <message>
        <source>user name</source>
        <translation>nome utente</translation>
    </message>
    <message>
        <source>6 digits from the authenticator app</source>
        <translation>6 cifre dall'app di autenticazione</translation>
    </message>
    <message>
        <source>Remember me on this computer (system keyring)</source>
        <translation>Ricordami su questo computer (portachiavi di sistema)</translation>
    </message>
    <message>
        <source>Server</source>
        <translation>Server</translation>
    </message>
    <message>
        <source>User</source>
        <translation>Utente</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>Password</translation>
    </message>
    <message>
        <source>Code (TOTP)</source>
        <translation>Codice (TOTP)</translation>
    </message>
    <message>
        <source>Signing in…</source>
        <translation>Accesso in corso…</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>Impostazioni…</translation>
    </message>
</context>
<context>
    <name>SupervisorDialog</name>
    <message>
        <source>Supervisor's second look</source>
        <translation>Seconda verifica del supervisore</translation>
    </message>
    <message>
        <source>The automated comparison says the applicant's face and the document photo belong to different people. To approve, a supervisor must look at the call and the stills and confirm here with their own credentials.</source>
        <translation>Il confronto automatico indica che il volto del richiedente e la foto del documento appartengono a persone diverse. Per approvare, un supervisore deve esaminare la chiamata e le foto e confermare qui con le proprie credenziali.</translation>
    </message>
    <message>
        <source>6 digits</source>
        <translation>6 cifre</translation>
    </message>
    <message>
        <source>Supervisor</source>
        <translation>Supervisore</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>Password</translation>
    </message>
    <message>
        <source>Authenticator code</source>
        <translation>Codice dell'autenticatore</translation>
    </message>
    <message>
        <source>Confirm and approve</source>
        <translation>Conferma e approva</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Annulla</translation>
    </message>
    <message>
        <source>Fill in the supervisor, the password and the code.</source>
        <translation>Inserisci il supervisore, la password e il codice.</translation>
    </message>
    <message>
        <source>This account is not a supervisor.</source>
        <translation>Questo account non è un supervisore.</translation>
    </message>
    <message>
        <source>The second look must be by another person.</source>
        <translation>La seconda verifica deve essere fatta da un'altra persona.</translation>
    </message>
</context>
<context>
    <name>TimelineWidget</name>
    <message>
        <source>Step</source>
        <translation>Passo</translation>
    </message>
    <message>
        <source>Capture</source>
        <translation>Acquisizione</translation>
    </message>
    <message>
        <source>OTP</source>
        <translation>OTP</translation>
    </message>
    <message>
        <source>E-mail</source>
        <translation>E-mail</translation>
    </message>
    <message>
        <source>Connection</source>
        <translation>Connessione</translation>
    </message>
    <message>
        <source>Gap</source>
        <translation>Interruzione</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>Nota</translation>
    </message>
    <message>
        <source>Decision</source>
        <translation>Decisione</translation>
    </message>
</context>
<context>
    <name>TrainingWindow</name>
    <message>
        <source>Training</source>
        <translation>Formazione</translation>
    </message>
    <message>
        <source>Runs</source>
        <translation>Esercitazioni</translation>
    </message>
    <message>
        <source>Scenarios</source>
        <translation>Scenari</translation>
    </message>
    <message>
        <source>Folder…</source>
        <translation>Cartella…</translation>
    </message>
    <message>
        <source>Reload</source>
        <translation>Ricarica</translation>
    </message>
    <message>
        <source>Reports in</source>
        <translation>Rapporti in</translation>
    </message>
    <message>
        <source>Trainee</source>
        <translation>Allievo</translation>
    </message>
    <message>
        <source>Scenario</source>
        <translation>Scenario</translation>
    </message>
    <message>
        <source>Decision</source>
        <translation>Decisione</translation>
    </message>
    <message>
        <source>Expected</source>
        <translation>Attesa</translation>
    </message>
    <message>
        <source>Correct</source>
        <translation>Corretta</translation>
    </message>
    <message>
        <source>Missed findings</source>
        <translation>Rilievi mancati</translation>
    </message>
    <message>
        <source>Skipped steps</source>
        <translation>Passi saltati</translation>
    </message>
    <message>
        <source>Time (s)</source>
        <translation>Tempo (s)</translation>
    </message>
    <message>
        <source>Folder of reports</source>
        <translation>Cartella dei rapporti</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>sì</translation>
    </message>
    <message>
        <source>NO</source>
        <translation>NO</translation>
    </message>
    <message>
        <source>%1 of %2 runs correct</source>
        <translation>%1 esercitazioni corrette su %2</translation>
    </message>
    <message>
        <source>unreadable: %1</source>
        <translation>illeggibili: %1</translation>
    </message>
    <message>
        <source>Start in the console</source>
        <translation>Avvia nella console</translation>
    </message>
    <message>
        <source>Start a pack folder…</source>
        <translation>Avvia da una cartella di scenario…</translation>
    </message>
    <message>
        <source>Replay a recorded session…</source>
        <translation>Riproduci una sessione registrata…</translation>
    </message>
    <message>
        <source>The scenario could not be prepared.</source>
        <translation>Non è stato possibile preparare lo scenario.</translation>
    </message>
    <message>
        <source>Scenario pack</source>
        <translation>Pacchetto di scenario</translation>
    </message>
    <message>
        <source>This folder is not a scenario pack.</source>
        <translation>Questa cartella non è un pacchetto di scenario.</translation>
    </message>
    <message>
        <source>Sign in to a desk service first.</source>
        <translation>Accedi prima a un servizio desk.</translation>
    </message>
    <message>
        <source>The desk service refused the scenario.</source>
        <translation>Il servizio desk ha rifiutato lo scenario.</translation>
    </message>
    <message>
        <source>Scenario “%1” is joining the queue (booking code %2): take it from the queue and work the session; the run is graded at the decision.</source>
        <translation>Lo scenario «%1» sta entrando in coda (codice di prenotazione %2): prendilo dalla coda e conduci la sessione; l'esercitazione viene valutata alla decisione.</translation>
    </message>
    <message>
        <source>Run graded: %1.</source>
        <translation>Esercitazione valutata: %1.</translation>
    </message>
    <message>
        <source>correct</source>
        <translation>corretta</translation>
    </message>
    <message>
        <source>wrong</source>
        <translation>errata</translation>
    </message>
    <message>
        <source>Evidence package</source>
        <translation>Pacchetto di evidenze</translation>
    </message>
    <message>
        <source>&amp;Training</source>
        <translation>&amp;Formazione</translation>
    </message>
    <message>
        <source>Training runs and scenarios…</source>
        <translation>Esercitazioni e scenari…</translation>
    </message>
</context>
</TS>