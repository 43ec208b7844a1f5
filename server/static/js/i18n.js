// Strings of the applicant's page. Italian first; English second.
// Placeholders: {name} is replaced by tr(key, {name: value}).
// Every key must exist in both languages (checked by tests/test_applicant_page_i18n.py).

export const STRINGS = {
  it: {
    "app.title": "Riconoscimento via webcam",
    "app.brand": "Riconoscimento identità",
    "app.skip": "Vai al contenuto",
    "lang.label": "Lingua",
    "steps.label": "Fasi del riconoscimento",
    "steps.intro": "Introduzione",
    "steps.check": "Verifica dispositivi",
    "steps.consent": "Consenso",
    "steps.waiting": "Attesa",
    "steps.call": "Videochiamata",

    "conn.connecting": "Connessione al servizio in corso…",
    "conn.lost": "Connessione al servizio persa. Nuovo tentativo in corso…",
    "conn.restored": "Connessione ripristinata.",

    "landing.title": "Riconoscimento dell'identità via webcam",
    "landing.product": "Richiesta:",
    "product.spid_personal": "SPID per uso personale",
    "product.spid_professional": "SPID per uso professionale",
    "product.digital_signature": "Firma digitale",
    "product.cns": "Carta Nazionale dei Servizi (CNS)",
    "landing.lead": "Un operatore verificherà la tua identità in videochiamata. Ci vogliono circa 10 minuti.",
    "landing.need": "Prima di iniziare, tieni a portata di mano:",
    "landing.need.document": "il documento d'identità indicato nella richiesta (carta d'identità, patente o passaporto), valido e integro;",
    "landing.need.ts": "la tessera sanitaria con il codice fiscale;",
    "landing.need.phone": "il cellulare indicato nella richiesta: riceverai un codice via SMS da leggere all'operatore;",
    "landing.need.room": "un ambiente ben illuminato e silenzioso, in cui sei da solo.",
    "landing.how": "Come funziona",
    "landing.how.1": "Verifichiamo che videocamera, microfono e connessione funzionino.",
    "landing.how.2": "Dai il consenso alla registrazione della videochiamata.",
    "landing.how.3": "Attendi in sala d'attesa il primo operatore libero.",
    "landing.how.4": "L'operatore ti guida: mostri il documento, confermi i tuoi dati e leggi il codice ricevuto.",
    "landing.privacy": "La videochiamata è cifrata. Nessun dato viene inviato ad altri siti.",
    "landing.start": "Inizia",

    "check.title": "Verifica dei dispositivi",
    "check.lead": "Controlliamo videocamera, microfono e connessione. Il browser ti chiederà il permesso di usarli: scegli «Consenti».",
    "check.start": "Avvia test",
    "check.retry": "Ripeti il test",
    "check.continue": "Continua",
    "check.back": "Indietro",
    "check.preview": "Anteprima della tua videocamera",
    "check.camera": "Videocamera",
    "check.microphone": "Microfono",
    "check.connection": "Connessione",
    "check.pending": "Da verificare",
    "check.running": "Verifica in corso…",
    "check.ok": "Funziona",
    "check.warn": "Funziona, con riserva",
    "check.fail": "Non funziona",
    "check.camera.ok": "Videocamera attiva a {width}×{height}.",
    "check.camera.low": "Videocamera attiva a {width}×{height}: la risoluzione è bassa. Se puoi, usa una videocamera migliore o un altro dispositivo.",
    "check.camera.denied": "Il permesso di usare la videocamera è stato negato. Clicca sull'icona della videocamera nella barra degli indirizzi, scegli «Consenti» e ripeti il test.",
    "check.camera.missing": "Nessuna videocamera trovata. Collega una webcam o usa un dispositivo che ne abbia una, poi ripeti il test.",
    "check.camera.busy": "La videocamera è usata da un'altra applicazione. Chiudi le altre app (videochiamate, fotocamera) e ripeti il test.",
    "check.camera.error": "Non è stato possibile avviare la videocamera. Ricarica la pagina e ripeti il test.",
    "check.microphone.ok": "Microfono attivo: parla e guarda muoversi l'indicatore.",
    "check.microphone.silent": "Microfono attivo, ma non sentiamo alcun suono. Controlla che non sia disattivato e parla ad alta voce.",
    "check.microphone.denied": "Il permesso di usare il microfono è stato negato. Clicca sull'icona nella barra degli indirizzi, scegli «Consenti» e ripeti il test.",
    "check.microphone.missing": "Nessun microfono trovato. Collega un microfono o un auricolare e ripeti il test.",
    "check.microphone.busy": "Il microfono è usato da un'altra applicazione. Chiudila e ripeti il test.",
    "check.microphone.error": "Non è stato possibile avviare il microfono. Ricarica la pagina e ripeti il test.",
    "check.connection.ok": "Connessione al servizio attiva (tempo di risposta {rtt} ms).",
    "check.connection.slow": "Connessione lenta (tempo di risposta {rtt} ms). Avvicinati al router o usa una rete più veloce.",
    "check.connection.fail": "Il servizio non è raggiungibile. Controlla la connessione a Internet e ripeti il test.",
    "check.level": "Livello del microfono",
    "check.insecure": "La pagina non è stata aperta in modo sicuro (https): il browser non permette di usare videocamera e microfono. Apri il link esattamente come l'hai ricevuto.",
    "check.unsupported": "Questo browser non consente l'accesso a videocamera e microfono. Usa una versione recente di Chrome, Edge, Firefox o Safari.",
    "check.summary.ok": "Tutto pronto. Puoi continuare.",
    "check.summary.fail": "Risolvi i problemi indicati e ripeti il test.",

    "consent.title": "Consenso",
    "consent.lead": "Per procedere al riconoscimento ci serve il tuo consenso.",
    "consent.recording": "Acconsento alla registrazione audio e video della sessione di riconoscimento e alla sua conservazione protetta per 20 anni, come previsto dalla normativa SPID.",
    "consent.recording.more": "La registrazione, le immagini dei documenti e i dati della sessione sono conservati cifrati; vi possono accedere solo l'autorità giudiziaria, AgID e tu, e ogni accesso viene registrato.",
    "consent.terms": "Ho letto e accetto le condizioni generali del servizio e l'informativa sul trattamento dei dati personali.",
    "consent.required": "Per continuare devi selezionare entrambe le caselle.",
    "consent.submit": "Acconsento e continuo",
    "consent.back": "Indietro",

    "waiting.title": "Sala d'attesa",
    "waiting.lead": "Resta su questa pagina: la videochiamata partirà da sola appena un operatore sarà libero.",
    "waiting.position": "Posizione in coda",
    "waiting.estimate": "Attesa stimata",
    "waiting.unknown": "—",
    "waiting.first": "Sei il prossimo",
    "waiting.minutes": "circa {n} min",
    "waiting.lessminute": "meno di un minuto",
    "waiting.assigned": "Operatore assegnato: {name}. La videochiamata sta per iniziare.",
    "waiting.assigned.anon": "Operatore assegnato. La videochiamata sta per iniziare.",
    "waiting.tips": "Mentre aspetti: prepara il documento e la tessera sanitaria, tieni il cellulare vicino e controlla che la stanza sia ben illuminata.",
    "waiting.preview": "La tua immagine",

    "call.title": "Videochiamata con l'operatore",
    "call.remote": "Video dell'operatore",
    "call.self": "La tua immagine",
    "call.connecting": "Collegamento in corso…",
    "call.connected": "Collegato",
    "call.reconnecting": "Collegamento perso. Attendi, l'operatore ti richiamerà…",
    "call.operator_left": "L'operatore si è disconnesso. Attendi: la chiamata riprenderà a breve.",
    "call.mute": "Disattiva microfono",
    "call.unmute": "Attiva microfono",
    "call.camera_off": "Disattiva videocamera",
    "call.camera_on": "Attiva videocamera",
    "call.hangup": "Chiudi la chiamata",
    "call.hangup.confirm": "Vuoi davvero chiudere la chiamata? Il riconoscimento verrà interrotto.",
    "call.muted": "Microfono disattivato",
    "call.camera_is_off": "Videocamera disattivata",
    "call.still": "L'operatore ha scattato una foto.",
    "call.still.camera_off": "L'operatore vuole scattare una foto: riattiva la videocamera.",
    "call.camera_lost": "La videocamera si è interrotta. Controlla il collegamento e ricarica la pagina: l'operatore ti richiamerà.",
    "call.error": "Non è stato possibile avviare la videochiamata. Ricarica la pagina.",
    "call.instruction": "Istruzione dell'operatore",
    "challenge.label": "Prova di presenza",
    "challenge.step": "{index} di {count}",
    "challenge.countdown": "{seconds} s",
    "challenge.turn_left": "Gira la testa verso la tua sinistra, poi torna a guardare la videocamera",
    "challenge.turn_right": "Gira la testa verso la tua destra, poi torna a guardare la videocamera",
    "challenge.look_up": "Alza lo sguardo verso l'alto, poi torna a guardare la videocamera",
    "challenge.blink": "Chiudi e riapri gli occhi due volte",
    "challenge.move_closer": "Avvicina il viso alla videocamera",

    "instr.raise_right_hand": "Alza la mano destra",
    "instr.raise_left_hand": "Alza la mano sinistra",
    "instr.turn_head_left": "Gira lentamente la testa a sinistra",
    "instr.turn_head_right": "Gira lentamente la testa a destra",
    "instr.look_at_camera": "Guarda nella videocamera",
    "instr.smile": "Sorridi",
    "instr.blink": "Chiudi e riapri gli occhi",
    "instr.touch_nose": "Tocca la punta del naso con un dito",
    "instr.move_closer": "Avvicinati alla videocamera",
    "instr.move_away": "Allontanati un po' dalla videocamera",
    "instr.more_light": "Serve più luce: accendi una luce o spostati verso una finestra",
    "instr.remove_glasses": "Togli gli occhiali",
    "instr.remove_hat": "Togli il cappello",
    "instr.hold_still": "Resta fermo un momento",
    "instr.show_document_front": "Mostra il fronte del documento vicino alla videocamera",
    "instr.show_document_back": "Mostra il retro del documento vicino alla videocamera",
    "instr.tilt_document": "Inclina lentamente il documento",
    "instr.show_health_card": "Mostra la tessera sanitaria",
    "instr.read_otp": "Leggi ad alta voce il codice ricevuto via SMS",
    "instr.check_email": "Apri l'e-mail che ti abbiamo inviato e clicca sul link di conferma",
    "instr.state_date_time": "Di' ad alta voce la data e l'ora di oggi",
    "instr.show_three_fingers": "Mostra tre dita alla videocamera",
    "instr.cover_left_eye": "Copri l'occhio sinistro con la mano",
    "instr.look_up": "Guarda in alto, poi di nuovo nella videocamera",
    "instr.touch_right_ear": "Tocca l'orecchio destro",
    "instr.nod_twice": "Annuisci due volte con la testa",
    "instr.face": "Guarda nella videocamera con il viso ben visibile",
    "instr.document_front": "Mostra il fronte del documento vicino alla videocamera",
    "instr.document_back": "Mostra il retro del documento vicino alla videocamera",
    "instr.health_card": "Mostra il retro della tessera sanitaria, con il codice a barre",
    "instr.health_card_front": "Mostra il fronte della tessera sanitaria",
    "instr.health_card_back": "Mostra il retro della tessera sanitaria, con il codice a barre",
    "instr.generic": "Segui le indicazioni dell'operatore",

    "ended.title": "Sessione terminata",
    "ended.approved": "Riconoscimento completato. Riceverai un'e-mail quando la tua identità sarà attiva.",
    "ended.rejected": "Non è stato possibile completare il riconoscimento. Riceverai un'e-mail con i motivi e le indicazioni per riprovare.",
    "ended.suspended": "Il riconoscimento è stato sospeso. Puoi riprenderlo più tardi da questo link, finché è valido, o da quello che riceverai via e-mail.",
    "ended.replaced": "La sessione è stata aperta in un'altra finestra o su un altro dispositivo. Continua da lì.",
    "ended.hangup": "Hai chiuso la chiamata. Il riconoscimento non è stato completato: puoi riprendere da questo link, se è ancora valido.",
    "ended.generic": "La sessione è terminata.",
    "ended.invalid": "Questo link non è valido o è scaduto. Chiedi un nuovo link dalla tua area personale.",
    "ended.rejoin": "Riprendi",
    "ended.close": "Puoi chiudere questa pagina."
  },

  en: {
    "app.title": "Webcam identity recognition",
    "app.brand": "Identity recognition",
    "app.skip": "Skip to content",
    "lang.label": "Language",
    "steps.label": "Recognition steps",
    "steps.intro": "Introduction",
    "steps.check": "Device check",
    "steps.consent": "Consent",
    "steps.waiting": "Waiting",
    "steps.call": "Video call",

    "conn.connecting": "Connecting to the service…",
    "conn.lost": "Connection to the service lost. Trying again…",
    "conn.restored": "Connection restored.",

    "landing.title": "Identity recognition by webcam",
    "landing.product": "Request:",
    "product.spid_personal": "SPID for personal use",
    "product.spid_professional": "SPID for professional use",
    "product.digital_signature": "Digital signature",
    "product.cns": "National Services Card (CNS)",
    "landing.lead": "An operator will check your identity in a video call. It takes about 10 minutes.",
    "landing.need": "Before you start, have at hand:",
    "landing.need.document": "the identity document named in your request (identity card, driving licence or passport), valid and undamaged;",
    "landing.need.ts": "your health card (tessera sanitaria) with your tax code;",
    "landing.need.phone": "the mobile phone named in your request: you will receive a code by SMS to read to the operator;",
    "landing.need.room": "a bright, quiet room where you are alone.",
    "landing.how": "How it works",
    "landing.how.1": "We check that your camera, microphone and connection work.",
    "landing.how.2": "You consent to the recording of the video call.",
    "landing.how.3": "You wait in the waiting room for the first free operator.",
    "landing.how.4": "The operator guides you: you show your document, confirm your data and read the code you received.",
    "landing.privacy": "The video call is encrypted. No data is sent to other sites.",
    "landing.start": "Start",

    "check.title": "Device check",
    "check.lead": "We check your camera, microphone and connection. Your browser will ask for permission to use them: choose \"Allow\".",
    "check.start": "Start test",
    "check.retry": "Run the test again",
    "check.continue": "Continue",
    "check.back": "Back",
    "check.preview": "Preview of your camera",
    "check.camera": "Camera",
    "check.microphone": "Microphone",
    "check.connection": "Connection",
    "check.pending": "Not checked yet",
    "check.running": "Checking…",
    "check.ok": "Works",
    "check.warn": "Works, with a caveat",
    "check.fail": "Does not work",
    "check.camera.ok": "Camera on at {width}×{height}.",
    "check.camera.low": "Camera on at {width}×{height}: the resolution is low. If you can, use a better camera or another device.",
    "check.camera.denied": "Permission to use the camera was denied. Click the camera icon in the address bar, choose \"Allow\" and run the test again.",
    "check.camera.missing": "No camera found. Connect a webcam or use a device that has one, then run the test again.",
    "check.camera.busy": "The camera is in use by another application. Close other apps (video calls, camera) and run the test again.",
    "check.camera.error": "The camera could not be started. Reload the page and run the test again.",
    "check.microphone.ok": "Microphone on: speak and watch the meter move.",
    "check.microphone.silent": "Microphone on, but we hear no sound. Check that it is not muted and speak up.",
    "check.microphone.denied": "Permission to use the microphone was denied. Click the icon in the address bar, choose \"Allow\" and run the test again.",
    "check.microphone.missing": "No microphone found. Connect a microphone or a headset and run the test again.",
    "check.microphone.busy": "The microphone is in use by another application. Close it and run the test again.",
    "check.microphone.error": "The microphone could not be started. Reload the page and run the test again.",
    "check.connection.ok": "Connected to the service (response time {rtt} ms).",
    "check.connection.slow": "Slow connection (response time {rtt} ms). Move closer to your router or use a faster network.",
    "check.connection.fail": "The service cannot be reached. Check your Internet connection and run the test again.",
    "check.level": "Microphone level",
    "check.insecure": "The page was not opened securely (https): the browser does not allow camera and microphone. Open the link exactly as you received it.",
    "check.unsupported": "This browser does not allow access to camera and microphone. Use a recent version of Chrome, Edge, Firefox or Safari.",
    "check.summary.ok": "All set. You can continue.",
    "check.summary.fail": "Fix the problems shown and run the test again.",

    "consent.title": "Consent",
    "consent.lead": "We need your consent to go ahead with the recognition.",
    "consent.recording": "I consent to the audio and video recording of the recognition session and to its protected retention for 20 years, as SPID rules require.",
    "consent.recording.more": "The recording, the document images and the session data are stored encrypted; only the judicial authority, AgID and you can access them, and every access is logged.",
    "consent.terms": "I have read and accept the general terms of the service and the privacy notice.",
    "consent.required": "Tick both boxes to continue.",
    "consent.submit": "I consent, continue",
    "consent.back": "Back",

    "waiting.title": "Waiting room",
    "waiting.lead": "Stay on this page: the video call starts by itself as soon as an operator is free.",
    "waiting.position": "Position in queue",
    "waiting.estimate": "Estimated wait",
    "waiting.unknown": "—",
    "waiting.first": "You are next",
    "waiting.minutes": "about {n} min",
    "waiting.lessminute": "less than a minute",
    "waiting.assigned": "Operator assigned: {name}. The video call is about to start.",
    "waiting.assigned.anon": "Operator assigned. The video call is about to start.",
    "waiting.tips": "While you wait: get your document and health card ready, keep your phone close and make sure the room is bright.",
    "waiting.preview": "Your picture",

    "call.title": "Video call with the operator",
    "call.remote": "Operator's video",
    "call.self": "Your picture",
    "call.connecting": "Connecting…",
    "call.connected": "Connected",
    "call.reconnecting": "Connection lost. Please wait, the operator will call you back…",
    "call.operator_left": "The operator disconnected. Please wait: the call will resume shortly.",
    "call.mute": "Mute microphone",
    "call.unmute": "Unmute microphone",
    "call.camera_off": "Turn camera off",
    "call.camera_on": "Turn camera on",
    "call.hangup": "End the call",
    "call.hangup.confirm": "Do you really want to end the call? The recognition will be interrupted.",
    "call.muted": "Microphone muted",
    "call.camera_is_off": "Camera off",
    "call.still": "The operator took a photo.",
    "call.still.camera_off": "The operator wants to take a photo: turn your camera back on.",
    "call.camera_lost": "The camera stopped. Check its connection and reload the page: the operator will call you back.",
    "call.error": "The video call could not be started. Reload the page.",
    "call.instruction": "Operator's instruction",
    "challenge.label": "Presence check",
    "challenge.step": "{index} of {count}",
    "challenge.countdown": "{seconds} s",
    "challenge.turn_left": "Turn your head to your left, then look back at the camera",
    "challenge.turn_right": "Turn your head to your right, then look back at the camera",
    "challenge.look_up": "Look up, then look back at the camera",
    "challenge.blink": "Close and open your eyes twice",
    "challenge.move_closer": "Bring your face closer to the camera",

    "instr.raise_right_hand": "Raise your right hand",
    "instr.raise_left_hand": "Raise your left hand",
    "instr.turn_head_left": "Slowly turn your head to the left",
    "instr.turn_head_right": "Slowly turn your head to the right",
    "instr.look_at_camera": "Look into the camera",
    "instr.smile": "Smile",
    "instr.blink": "Close and open your eyes",
    "instr.touch_nose": "Touch the tip of your nose with a finger",
    "instr.move_closer": "Move closer to the camera",
    "instr.move_away": "Move a little away from the camera",
    "instr.more_light": "More light needed: switch on a light or move towards a window",
    "instr.remove_glasses": "Take off your glasses",
    "instr.remove_hat": "Take off your hat",
    "instr.hold_still": "Hold still for a moment",
    "instr.show_document_front": "Show the front of your document close to the camera",
    "instr.show_document_back": "Show the back of your document close to the camera",
    "instr.tilt_document": "Slowly tilt the document",
    "instr.show_health_card": "Show your health card",
    "instr.read_otp": "Read aloud the code you received by SMS",
    "instr.check_email": "Open the e-mail we sent you and click the confirmation link",
    "instr.state_date_time": "Say today's date and time aloud",
    "instr.show_three_fingers": "Show three fingers to the camera",
    "instr.cover_left_eye": "Cover your left eye with your hand",
    "instr.look_up": "Look up, then back into the camera",
    "instr.touch_right_ear": "Touch your right ear",
    "instr.nod_twice": "Nod twice",
    "instr.face": "Look into the camera with your face clearly visible",
    "instr.document_front": "Show the front of your document close to the camera",
    "instr.document_back": "Show the back of your document close to the camera",
    "instr.health_card": "Show the back of your health card, with the barcode",
    "instr.health_card_front": "Show the front of your health card",
    "instr.health_card_back": "Show the back of your health card, with the barcode",
    "instr.generic": "Follow the operator's directions",

    "ended.title": "Session ended",
    "ended.approved": "Recognition complete. You will receive an e-mail when your identity is active.",
    "ended.rejected": "The recognition could not be completed. You will receive an e-mail with the reasons and how to try again.",
    "ended.suspended": "The recognition was suspended. You can resume it later from this link, while it is valid, or from the one you will receive by e-mail.",
    "ended.replaced": "The session was opened in another window or on another device. Continue there.",
    "ended.hangup": "You ended the call. The recognition was not completed: you can resume from this link while it is still valid.",
    "ended.generic": "The session has ended.",
    "ended.invalid": "This link is not valid or has expired. Ask for a new link from your personal area.",
    "ended.rejoin": "Resume",
    "ended.close": "You can close this page."
  }
};

export const LANGUAGES = ["it", "en"];

let current = "it";

export function getLanguage() {
  return current;
}

export function setLanguage(lang) {
  current = LANGUAGES.includes(lang) ? lang : "it";
  return current;
}

export function tr(key, params) {
  const table = STRINGS[current] || STRINGS.it;
  let text = table[key];
  if (text === undefined) text = STRINGS.it[key];
  if (text === undefined) return key;
  if (params) {
    text = text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  }
  return text;
}

// Show a translated string in an element and remember key and params, so that a language
// switch re-renders it.
export function setText(el, key, params) {
  if (!el) return;
  if (!key) {
    el.removeAttribute("data-i18n");
    el.removeAttribute("data-i18n-params");
    el.textContent = "";
    return;
  }
  el.setAttribute("data-i18n", key);
  if (params) el.setAttribute("data-i18n-params", JSON.stringify(params));
  else el.removeAttribute("data-i18n-params");
  el.textContent = tr(key, params);
}

// Fill every element marked data-i18n (textContent) and data-i18n-attr ("attr:key;attr:key").
export function applyTranslations(root) {
  root.querySelectorAll("[data-i18n]").forEach((el) => {
    let params;
    const raw = el.getAttribute("data-i18n-params");
    if (raw) {
      try {
        params = JSON.parse(raw);
      } catch (e) {
        params = undefined;
      }
    }
    el.textContent = tr(el.getAttribute("data-i18n"), params);
  });
  root.querySelectorAll("[data-i18n-attr]").forEach((el) => {
    for (const pair of el.getAttribute("data-i18n-attr").split(";")) {
      const [attr, key] = pair.split(":");
      if (attr && key) el.setAttribute(attr.trim(), tr(key.trim()));
    }
  });
}
