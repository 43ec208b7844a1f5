<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="en_GB">
<context>
    <name>DecisionDialog</name>
    <message>
        <source>Decision</source>
        <translation>Decision</translation>
    </message>
    <message>
        <source>Approve</source>
        <translation>Approve</translation>
    </message>
    <message>
        <source>Reject</source>
        <translation>Reject</translation>
    </message>
    <message>
        <source>Suspend (the applicant can be called again)</source>
        <translation>Suspend (the applicant can be called again)</translation>
    </message>
    <message>
        <source>Approval is blocked: required steps not passed: %1</source>
        <translation>Approval is blocked: required steps not passed: %1</translation>
    </message>
    <message>
        <source>Note for the record (optional, required for 'Other')</source>
        <translation>Note for the record (optional, required for 'Other')</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Reason</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>Note</translation>
    </message>
    <message>
        <source>Send decision</source>
        <translation>Send decision</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>Outcome of the recognition</source>
        <translation>Outcome of the recognition</translation>
    </message>
    <message>
        <source>Choose an outcome.</source>
        <translation>Choose an outcome.</translation>
    </message>
    <message>
        <source>Explain the reason in the note.</source>
        <translation>Explain the reason in the note.</translation>
    </message>
</context>
<context>
    <name>Findings</name>
    <message>
        <source>matches</source>
        <translation>matches</translation>
    </message>
    <message>
        <source>differs</source>
        <translation>differs</translation>
    </message>
    <message>
        <source>unreadable</source>
        <translation>unreadable</translation>
    </message>
    <message>
        <source>unsure: check by eye</source>
        <translation>unsure: check by eye</translation>
    </message>
    <message>
        <source>not in the request</source>
        <translation>not in the request</translation>
    </message>
    <message>
        <source>ok</source>
        <translation>ok</translation>
    </message>
    <message>
        <source>blurred</source>
        <translation>blurred</translation>
    </message>
    <message>
        <source>reflections</source>
        <translation>reflections</translation>
    </message>
    <message>
        <source>too dark</source>
        <translation>too dark</translation>
    </message>
    <message>
        <source>overexposed</source>
        <translation>overexposed</translation>
    </message>
    <message>
        <source>same person</source>
        <translation>same person</translation>
    </message>
    <message>
        <source>different person</source>
        <translation>different person</translation>
    </message>
    <message>
        <source>cannot say</source>
        <translation>cannot say</translation>
    </message>
    <message>
        <source>valid</source>
        <translation>valid</translation>
    </message>
    <message>
        <source>invalid</source>
        <translation>invalid</translation>
    </message>
    <message>
        <source>expired</source>
        <translation>expired</translation>
    </message>
    <message>
        <source>in force</source>
        <translation>in force</translation>
    </message>
    <message>
        <source>not ok</source>
        <translation>not ok</translation>
    </message>
    <message>
        <source>Surname</source>
        <translation>Surname</translation>
    </message>
    <message>
        <source>Given names</source>
        <translation>Given names</translation>
    </message>
    <message>
        <source>Document number</source>
        <translation>Document number</translation>
    </message>
    <message>
        <source>Birth date</source>
        <translation>Birth date</translation>
    </message>
    <message>
        <source>Sex</source>
        <translation>Sex</translation>
    </message>
    <message>
        <source>Expiry date</source>
        <translation>Expiry date</translation>
    </message>
    <message>
        <source>Nationality</source>
        <translation>Nationality</translation>
    </message>
    <message>
        <source>Codice fiscale</source>
        <translation>Codice fiscale</translation>
    </message>
    <message>
        <source>Sharpness</source>
        <translation>Sharpness</translation>
    </message>
    <message>
        <source>Glare</source>
        <translation>Glare</translation>
    </message>
    <message>
        <source>Exposure</source>
        <translation>Exposure</translation>
    </message>
    <message>
        <source>No document in view: ask to show it to the camera</source>
        <translation>No document in view: ask to show it to the camera</translation>
    </message>
    <message>
        <source>Closer: ask to bring the document nearer</source>
        <translation>Closer: ask to bring the document nearer</translation>
    </message>
    <message>
        <source>Too close: ask to move the document away a little</source>
        <translation>Too close: ask to move the document away a little</translation>
    </message>
    <message>
        <source>Ask to centre the document</source>
        <translation>Ask to centre the document</translation>
    </message>
    <message>
        <source>Hold still</source>
        <translation>Hold still</translation>
    </message>
    <message>
        <source>Tilt to avoid reflections</source>
        <translation>Tilt to avoid reflections</translation>
    </message>
    <message>
        <source>Too dark: more light needed</source>
        <translation>Too dark: more light needed</translation>
    </message>
    <message>
        <source>Too bright: less light</source>
        <translation>Too bright: less light</translation>
    </message>
    <message>
        <source>Out of focus: hold still or clean the lens</source>
        <translation>Out of focus: hold still or clean the lens</translation>
    </message>
    <message>
        <source>OCR not available</source>
        <translation>OCR not available</translation>
    </message>
    <message>
        <source>MRZ reading failed</source>
        <translation>MRZ reading failed</translation>
    </message>
    <message>
        <source>barcode reading failed</source>
        <translation>barcode reading failed</translation>
    </message>
    <message>
        <source>quality check failed</source>
        <translation>quality check failed</translation>
    </message>
    <message>
        <source>the still is not a readable image</source>
        <translation>the still is not a readable image</translation>
    </message>
    <message>
        <source>the check could not run</source>
        <translation>the check could not run</translation>
    </message>
    <message>
        <source>face models not installed</source>
        <translation>face models not installed</translation>
    </message>
    <message>
        <source>face comparison failed</source>
        <translation>face comparison failed</translation>
    </message>
    <message>
        <source>Virtual or fake camera name</source>
        <translation>Virtual or fake camera name</translation>
    </message>
    <message>
        <source>Camera changed during the call</source>
        <translation>Camera changed during the call</translation>
    </message>
    <message>
        <source>Picture frozen</source>
        <translation>Picture frozen</translation>
    </message>
    <message>
        <source>Pictures repeat: a looped clip</source>
        <translation>Pictures repeat: a looped clip</translation>
    </message>
    <message>
        <source>Frame timestamps from a synthetic clock (weak)</source>
        <translation>Frame timestamps from a synthetic clock (weak)</translation>
    </message>
    <message>
        <source>No camera sensor noise in the stills (weak)</source>
        <translation>No camera sensor noise in the stills (weak)</translation>
    </message>
    <message>
        <source>Challenges answered faster than a person reacts</source>
        <translation>Challenges answered faster than a person reacts</translation>
    </message>
    <message>
        <source>Challenges answered with a long delay</source>
        <translation>Challenges answered with a long delay</translation>
    </message>
    <message>
        <source>turn the head left</source>
        <translation>turn the head left</translation>
    </message>
    <message>
        <source>turn the head right</source>
        <translation>turn the head right</translation>
    </message>
    <message>
        <source>look up</source>
        <translation>look up</translation>
    </message>
    <message>
        <source>blink</source>
        <translation>blink</translation>
    </message>
    <message>
        <source>move closer</source>
        <translation>move closer</translation>
    </message>
    <message>
        <source>passed</source>
        <translation>passed</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>failed</translation>
    </message>
    <message>
        <source>inconclusive: repeat it</source>
        <translation>inconclusive: repeat it</translation>
    </message>
    <message>
        <source>waiting</source>
        <translation>waiting</translation>
    </message>
    <message>
        <source>running</source>
        <translation>running</translation>
    </message>
    <message>
        <source>not done yet</source>
        <translation>not done yet</translation>
    </message>
    <message>
        <source>not shown on the applicant's screen: repeat it</source>
        <translation>not shown on the applicant's screen: repeat it</translation>
    </message>
</context>
<context>
    <name>FindingsPanel</name>
    <message>
        <source>Auto-capture</source>
        <translation>Auto-capture</translation>
    </message>
    <message>
        <source>Ask for the still by itself when the document is steady, sharp and free of reflections</source>
        <translation>Ask for the still by itself when the document is steady, sharp and free of reflections</translation>
    </message>
    <message>
        <source>Check</source>
        <translation>Check</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>Result</translation>
    </message>
    <message>
        <source>Security features to check</source>
        <translation>Security features to check</translation>
    </message>
    <message>
        <source>Automated checks: waiting for the first still.</source>
        <translation>Automated checks: waiting for the first still.</translation>
    </message>
    <message>
        <source>Still: %1</source>
        <translation>Still: %1</translation>
    </message>
    <message>
        <source>Picture quality</source>
        <translation>Picture quality</translation>
    </message>
    <message>
        <source>Document</source>
        <translation>Document</translation>
    </message>
    <message>
        <source>not found in the still</source>
        <translation>not found in the still</translation>
    </message>
    <message>
        <source>MRZ (%1) check digits</source>
        <translation>MRZ (%1) check digits</translation>
    </message>
    <message>
        <source>MRZ %1</source>
        <translation>MRZ %1</translation>
    </message>
    <message>
        <source>unsure: %1</source>
        <translation>unsure: %1</translation>
    </message>
    <message>
        <source>Validity</source>
        <translation>Validity</translation>
    </message>
    <message>
        <source>MRZ</source>
        <translation>MRZ</translation>
    </message>
    <message>
        <source>not found</source>
        <translation>not found</translation>
    </message>
    <message>
        <source>Codice fiscale (barcode)</source>
        <translation>Codice fiscale (barcode)</translation>
    </message>
    <message>
        <source>Codice fiscale: %1</source>
        <translation>Codice fiscale: %1</translation>
    </message>
    <message>
        <source>not read</source>
        <translation>not read</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>Error</translation>
    </message>
    <message>
        <source>differs: %1</source>
        <translation>differs: %1</translation>
    </message>
    <message>
        <source>Face: document photo vs live</source>
        <translation>Face: document photo vs live</translation>
    </message>
    <message>
        <source>Automated comparison</source>
        <translation>Automated comparison</translation>
    </message>
    <message>
        <source>Similarity</source>
        <translation>Similarity</translation>
    </message>
    <message>
        <source>Document photo</source>
        <translation>Document photo</translation>
    </message>
    <message>
        <source>no face found</source>
        <translation>no face found</translation>
    </message>
    <message>
        <source>Live picture</source>
        <translation>Live picture</translation>
    </message>
    <message>
        <source>%1 faces: a third person is present</source>
        <translation>%1 faces: a third person is present</translation>
    </message>
    <message>
        <source>Camera: injection signals</source>
        <translation>Camera: injection signals</translation>
    </message>
    <message>
        <source>Overridden by the operator</source>
        <translation>Overridden by the operator</translation>
    </message>
    <message>
        <source>none</source>
        <translation>none</translation>
    </message>
    <message>
        <source>one weak signal: not suspected</source>
        <translation>one weak signal: not suspected</translation>
    </message>
    <message>
        <source>suspected, overridden</source>
        <translation>suspected, overridden</translation>
    </message>
    <message>
        <source>suspected</source>
        <translation>suspected</translation>
    </message>
    <message>
        <source>Liveness (random challenges)</source>
        <translation>Liveness (random challenges)</translation>
    </message>
    <message>
        <source>Confirmed by supervisor</source>
        <translation>Confirmed by supervisor</translation>
    </message>
    <message>
        <source>The automated comparison says the face is a different person. Approval needs a supervisor's second look; rejection is always possible.</source>
        <translation>The automated comparison says the face is a different person. Approval needs a supervisor's second look; rejection is always possible.</translation>
    </message>
    <message>
        <source>Face difference confirmed by supervisor %1.</source>
        <translation>Face difference confirmed by supervisor %1.</translation>
    </message>
    <message>
        <source>%1: ready to capture</source>
        <translation>%1: ready to capture</translation>
    </message>
    <message>
        <source>%1: checking the picture…</source>
        <translation>%1: checking the picture…</translation>
    </message>
    <message>
        <source> (optically variable)</source>
        <translation> (optically variable)</translation>
    </message>
    <message>
        <source>Ask</source>
        <translation>Ask</translation>
    </message>
    <message>
        <source>Show the movement to the applicant</source>
        <translation>Show the movement to the applicant</translation>
    </message>
    <message>
        <source>Capture</source>
        <translation>Capture</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>Not OK</source>
        <translation>Not OK</translation>
    </message>
    <message>
        <source>waiting…</source>
        <translation>waiting…</translation>
    </message>
    <message>
        <source>capture failed</source>
        <translation>capture failed</translation>
    </message>
    <message>
        <source>still %1×%2</source>
        <translation>still %1×%2</translation>
    </message>
</context>
<context>
    <name>InPerson</name>
    <message>
        <source>The smart-card service (pcscd) is not running. Start it with 'sudo systemctl start pcscd' (or 'sudo pcscd').</source>
        <translation>The smart-card service (pcscd) is not running. Start it with 'sudo systemctl start pcscd' (or 'sudo pcscd').</translation>
    </message>
    <message>
        <source>No card reader is connected.</source>
        <translation>No card reader is connected.</translation>
    </message>
    <message>
        <source>The card reader is not connected.</source>
        <translation>The card reader is not connected.</translation>
    </message>
    <message>
        <source>The card reader was unplugged.</source>
        <translation>The card reader was unplugged.</translation>
    </message>
    <message>
        <source>Insert the Tessera Sanitaria in the reader.</source>
        <translation>Insert the Tessera Sanitaria in the reader.</translation>
    </message>
    <message>
        <source>The card was removed while being read: nothing was kept. Insert it again.</source>
        <translation>The card was removed while being read: nothing was kept. Insert it again.</translation>
    </message>
    <message>
        <source>The card does not answer. Check that it is inserted the right way.</source>
        <translation>The card does not answer. Check that it is inserted the right way.</translation>
    </message>
    <message>
        <source>This card is not a Tessera Sanitaria / CNS.</source>
        <translation>This card is not a Tessera Sanitaria / CNS.</translation>
    </message>
    <message>
        <source>The card refuses to be read without a PIN.</source>
        <translation>The card refuses to be read without a PIN.</translation>
    </message>
    <message>
        <source>The personal data on the card are unreadable (malformed file).</source>
        <translation>The personal data on the card are unreadable (malformed file).</translation>
    </message>
    <message>
        <source>The card number on the card is unreadable.</source>
        <translation>The card number on the card is unreadable.</translation>
    </message>
    <message>
        <source>The certificate on the card is unreadable (malformed).</source>
        <translation>The certificate on the card is unreadable (malformed).</translation>
    </message>
    <message>
        <source>The card could not be read.</source>
        <translation>The card could not be read.</translation>
    </message>
    <message>
        <source>Codice fiscale differs from the request</source>
        <translation>Codice fiscale differs from the request</translation>
    </message>
    <message>
        <source>Codice fiscale in the certificate differs from the card data</source>
        <translation>Codice fiscale in the certificate differs from the card data</translation>
    </message>
    <message>
        <source>Card number in the certificate differs from the card</source>
        <translation>Card number in the certificate differs from the card</translation>
    </message>
    <message>
        <source>Surname differs from the request</source>
        <translation>Surname differs from the request</translation>
    </message>
    <message>
        <source>Given names differ from the request</source>
        <translation>Given names differ from the request</translation>
    </message>
    <message>
        <source>Date of birth differs from the request</source>
        <translation>Date of birth differs from the request</translation>
    </message>
    <message>
        <source>The card is expired</source>
        <translation>The card is expired</translation>
    </message>
    <message>
        <source>The CNS certificate is expired</source>
        <translation>The CNS certificate is expired</translation>
    </message>
    <message>
        <source>This Tessera Sanitaria carries no CNS certificate (the data are still checked)</source>
        <translation>This Tessera Sanitaria carries no CNS certificate (the data are still checked)</translation>
    </message>
    <message>
        <source>Look the request up by its booking code</source>
        <translation>Look the request up by its booking code</translation>
    </message>
    <message>
        <source>Read the Tessera Sanitaria</source>
        <translation>Read the Tessera Sanitaria</translation>
    </message>
    <message>
        <source>The card does not match the request</source>
        <translation>The card does not match the request</translation>
    </message>
    <message>
        <source>The Tessera Sanitaria is expired</source>
        <translation>The Tessera Sanitaria is expired</translation>
    </message>
    <message>
        <source>The identity document is expired</source>
        <translation>The identity document is expired</translation>
    </message>
    <message>
        <source>The document's MRZ does not match the request</source>
        <translation>The document's MRZ does not match the request</translation>
    </message>
    <message>
        <source>Take the photo of the person</source>
        <translation>Take the photo of the person</translation>
    </message>
    <message>
        <source>Complete the script steps</source>
        <translation>Complete the script steps</translation>
    </message>
    <message>
        <source>Already decided</source>
        <translation>Already decided</translation>
    </message>
    <message>
        <source>No request has this booking code.</source>
        <translation>No request has this booking code.</translation>
    </message>
    <message>
        <source>This request is already decided.</source>
        <translation>This request is already decided.</translation>
    </message>
    <message>
        <source>Finish the current request first.</source>
        <translation>Finish the current request first.</translation>
    </message>
    <message>
        <source>Look the request up first.</source>
        <translation>Look the request up first.</translation>
    </message>
    <message>
        <source>Read the Tessera Sanitaria first.</source>
        <translation>Read the Tessera Sanitaria first.</translation>
    </message>
    <message>
        <source>The card does not match the request.</source>
        <translation>The card does not match the request.</translation>
    </message>
    <message>
        <source>The identity document is expired.</source>
        <translation>The identity document is expired.</translation>
    </message>
    <message>
        <source>The picture is not usable; take it again.</source>
        <translation>The picture is not usable; take it again.</translation>
    </message>
    <message>
        <source>Unknown picture kind.</source>
        <translation>Unknown picture kind.</translation>
    </message>
    <message>
        <source>The camera is not available.</source>
        <translation>The camera is not available.</translation>
    </message>
    <message>
        <source>Approval is blocked: see the list of what is missing.</source>
        <translation>Approval is blocked: see the list of what is missing.</translation>
    </message>
</context>
<context>
    <name>InPersonWindow</name>
    <message>
        <source>In-person identification</source>
        <translation>In-person identification</translation>
    </message>
    <message>
        <source>Booking code</source>
        <translation>Booking code</translation>
    </message>
    <message>
        <source>Find request</source>
        <translation>Find request</translation>
    </message>
    <message>
        <source>Booking code:</source>
        <translation>Booking code:</translation>
    </message>
    <message>
        <source>Request</source>
        <translation>Request</translation>
    </message>
    <message>
        <source>Service</source>
        <translation>Service</translation>
    </message>
    <message>
        <source>Applicant</source>
        <translation>Applicant</translation>
    </message>
    <message>
        <source>Codice fiscale</source>
        <translation>Codice fiscale</translation>
    </message>
    <message>
        <source>Date of birth</source>
        <translation>Date of birth</translation>
    </message>
    <message>
        <source>Document</source>
        <translation>Document</translation>
    </message>
    <message>
        <source>Tessera Sanitaria / CNS</source>
        <translation>Tessera Sanitaria / CNS</translation>
    </message>
    <message>
        <source>Insert the Tessera Sanitaria in the reader.</source>
        <translation>Insert the Tessera Sanitaria in the reader.</translation>
    </message>
    <message>
        <source>Card number</source>
        <translation>Card number</translation>
    </message>
    <message>
        <source>Holder</source>
        <translation>Holder</translation>
    </message>
    <message>
        <source>Expiry</source>
        <translation>Expiry</translation>
    </message>
    <message>
        <source>CNS certificate</source>
        <translation>CNS certificate</translation>
    </message>
    <message>
        <source>Read card</source>
        <translation>Read card</translation>
    </message>
    <message>
        <source>Pictures</source>
        <translation>Pictures</translation>
    </message>
    <message>
        <source>not taken</source>
        <translation>not taken</translation>
    </message>
    <message>
        <source>Print the request form (PDF)</source>
        <translation>Print the request form (PDF)</translation>
    </message>
    <message>
        <source>Script (AgID art. 7)</source>
        <translation>Script (AgID art. 7)</translation>
    </message>
    <message>
        <source>Decision</source>
        <translation>Decision</translation>
    </message>
    <message>
        <source>Still missing for approval:</source>
        <translation>Still missing for approval:</translation>
    </message>
    <message>
        <source>Approve</source>
        <translation>Approve</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>Note</translation>
    </message>
    <message>
        <source>Reject</source>
        <translation>Reject</translation>
    </message>
    <message>
        <source>Suspend</source>
        <translation>Suspend</translation>
    </message>
    <message>
        <source>Unexpected error; the action was not completed.</source>
        <translation>Unexpected error; the action was not completed.</translation>
    </message>
    <message>
        <source>Type the booking code.</source>
        <translation>Type the booking code.</translation>
    </message>
    <message>
        <source>Looking the request up…</source>
        <translation>Looking the request up…</translation>
    </message>
    <message>
        <source>Request found. Read the card and take the pictures.</source>
        <translation>Request found. Read the card and take the pictures.</translation>
    </message>
    <message>
        <source>Reading the card…</source>
        <translation>Reading the card…</translation>
    </message>
    <message>
        <source>poor picture: take it again</source>
        <translation>poor picture: take it again</translation>
    </message>
    <message>
        <source>no document found</source>
        <translation>no document found</translation>
    </message>
    <message>
        <source>MRZ check digits wrong</source>
        <translation>MRZ check digits wrong</translation>
    </message>
    <message>
        <source>MRZ differs from the request</source>
        <translation>MRZ differs from the request</translation>
    </message>
    <message>
        <source>ok</source>
        <translation>ok</translation>
    </message>
    <message>
        <source>Form saved: %1</source>
        <translation>Form saved: %1</translation>
    </message>
    <message>
        <source>Decision recorded: %1</source>
        <translation>Decision recorded: %1</translation>
    </message>
    <message>
        <source>Decision kept (%1): it will be sent when the desk service answers.</source>
        <translation>Decision kept (%1): it will be sent when the desk service answers.</translation>
    </message>
    <message>
        <source>Done. Type the next booking code.</source>
        <translation>Done. Type the next booking code.</translation>
    </message>
    <message>
        <source>Card inserted. Look the request up first.</source>
        <translation>Card inserted. Look the request up first.</translation>
    </message>
    <message>
        <source>present</source>
        <translation>present</translation>
    </message>
    <message>
        <source>absent</source>
        <translation>absent</translation>
    </message>
    <message>
        <source>Card read: it matches the request.</source>
        <translation>Card read: it matches the request.</translation>
    </message>
    <message>
        <source>Card read: it does NOT match the request.</source>
        <translation>Card read: it does NOT match the request.</translation>
    </message>
    <message>
        <source>Confirm</source>
        <translation>Confirm</translation>
    </message>
</context>
<context>
    <name>LogView</name>
    <message>
        <source>Console log</source>
        <translation>Console log</translation>
    </message>
    <message>
        <source>Debug</source>
        <translation>Debug</translation>
    </message>
    <message>
        <source>Information</source>
        <translation>Information</translation>
    </message>
    <message>
        <source>Warnings</source>
        <translation>Warnings</translation>
    </message>
    <message>
        <source>Errors</source>
        <translation>Errors</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>Clear</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Close</translation>
    </message>
    <message>
        <source>Show:</source>
        <translation>Show:</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Recognition console</source>
        <translation>Recognition console</translation>
    </message>
    <message>
        <source>&amp;Console</source>
        <translation>&amp;Console</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>Settings…</translation>
    </message>
    <message>
        <source>Log…</source>
        <translation>Log…</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Quit</translation>
    </message>
    <message>
        <source>Signed in: %1 (%2)</source>
        <translation>Signed in: %1 (%2)</translation>
    </message>
    <message>
        <source>Applicant assigned.</source>
        <translation>Applicant assigned.</translation>
    </message>
    <message>
        <source>Decision recorded: %1</source>
        <translation>Decision recorded: %1</translation>
    </message>
    <message>
        <source>Desk service unreachable: the decision is kept and sent automatically later.</source>
        <translation>Desk service unreachable: the decision is kept and sent automatically later.</translation>
    </message>
    <message>
        <source>Evidence package sealed: it is uploaded in the background and kept on this computer until the desk service has it.</source>
        <translation>Evidence package sealed: it is uploaded in the background and kept on this computer until the desk service has it.</translation>
    </message>
    <message>
        <source>The evidence package could not be completed: see the log.</source>
        <translation>The evidence package could not be completed: see the log.</translation>
    </message>
    <message>
        <source>Decision not sent</source>
        <translation>Decision not sent</translation>
    </message>
</context>
<context>
    <name>Messages</name>
    <message>
        <source>Wrong user name or password.</source>
        <translation>Wrong user name or password.</translation>
    </message>
    <message>
        <source>The one-time code from the authenticator app is wrong or expired.</source>
        <translation>The one-time code from the authenticator app is wrong or expired.</translation>
    </message>
    <message>
        <source>Account locked after too many failed attempts, until %1.</source>
        <translation>Account locked after too many failed attempts, until %1.</translation>
    </message>
    <message>
        <source>Account locked after too many failed attempts. Try again later.</source>
        <translation>Account locked after too many failed attempts. Try again later.</translation>
    </message>
    <message>
        <source>The desk service cannot be reached. Check the address and the network.</source>
        <translation>The desk service cannot be reached. Check the address and the network.</translation>
    </message>
    <message>
        <source>The server's TLS certificate is not trusted: check the address or the CA bundle.</source>
        <translation>The server's TLS certificate is not trusted: check the address or the CA bundle.</translation>
    </message>
    <message>
        <source>Your session has expired. Please sign in again.</source>
        <translation>Your session has expired. Please sign in again.</translation>
    </message>
    <message>
        <source>Your account is not allowed to do this.</source>
        <translation>Your account is not allowed to do this.</translation>
    </message>
    <message>
        <source>Not found on the desk service.</source>
        <translation>Not found on the desk service.</translation>
    </message>
    <message>
        <source>Some fields are not valid.</source>
        <translation>Some fields are not valid.</translation>
    </message>
    <message>
        <source>Too soon: wait a moment before trying again.</source>
        <translation>Too soon: wait a moment before trying again.</translation>
    </message>
    <message>
        <source>The desk service refuses the approval: it has not recorded everything an approval needs.</source>
        <translation>The desk service refuses the approval: it has not recorded everything an approval needs.</translation>
    </message>
    <message>
        <source>This request is not assigned to you on the desk service.</source>
        <translation>This request is not assigned to you on the desk service.</translation>
    </message>
    <message>
        <source>No more SMS codes can be sent for this request.</source>
        <translation>No more SMS codes can be sent for this request.</translation>
    </message>
    <message>
        <source>This request has already been decided.</source>
        <translation>This request has already been decided.</translation>
    </message>
    <message>
        <source>The desk service had an internal problem. Try again shortly.</source>
        <translation>The desk service had an internal problem. Try again shortly.</translation>
    </message>
    <message>
        <source>The desk service cannot store data right now: its disk is full or read-only. Evidence and decisions waiting on this computer are kept and sent again automatically; try other actions again later and tell the desk service's administrator.</source>
        <translation>The desk service cannot store data right now: its disk is full or read-only. Evidence and decisions waiting on this computer are kept and sent again automatically; try other actions again later and tell the desk service's administrator.</translation>
    </message>
    <message>
        <source>The desk service answered something unexpected.</source>
        <translation>The desk service answered something unexpected.</translation>
    </message>
    <message>
        <source>Required steps are not passed yet.</source>
        <translation>Required steps are not passed yet.</translation>
    </message>
    <message>
        <source>No system keyring is available: the password cannot be remembered.</source>
        <translation>No system keyring is available: the password cannot be remembered.</translation>
    </message>
    <message>
        <source>The server address is not a valid http(s) URL.</source>
        <translation>The server address is not a valid http(s) URL.</translation>
    </message>
    <message>
        <source>Plain http:// is allowed only to this computer: use the https:// address of the desk service.</source>
        <translation>Plain http:// is allowed only to this computer: use the https:// address of the desk service.</translation>
    </message>
    <message>
        <source>Fill in user name, password and the 6-digit code.</source>
        <translation>Fill in user name, password and the 6-digit code.</translation>
    </message>
    <message>
        <source>Nobody is waiting right now.</source>
        <translation>Nobody is waiting right now.</translation>
    </message>
    <message>
        <source>The applicant's camera is not available.</source>
        <translation>The applicant's camera is not available.</translation>
    </message>
    <message>
        <source>No answer in time.</source>
        <translation>No answer in time.</translation>
    </message>
    <message>
        <source>The call is not connected.</source>
        <translation>The call is not connected.</translation>
    </message>
    <message>
        <source>The media engine is not available on this installation.</source>
        <translation>The media engine is not available on this installation.</translation>
    </message>
    <message>
        <source>Unexpected error (%1).</source>
        <translation>Unexpected error (%1).</translation>
    </message>
    <message>
        <source>Excellent</source>
        <translation>Excellent</translation>
    </message>
    <message>
        <source>Good</source>
        <translation>Good</translation>
    </message>
    <message>
        <source>Poor</source>
        <translation>Poor</translation>
    </message>
    <message>
        <source>Lost</source>
        <translation>Lost</translation>
    </message>
    <message>
        <source>Measuring…</source>
        <translation>Measuring…</translation>
    </message>
    <message>
        <source>To do</source>
        <translation>To do</translation>
    </message>
    <message>
        <source>Passed</source>
        <translation>Passed</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Failed</translation>
    </message>
    <message>
        <source>Skipped</source>
        <translation>Skipped</translation>
    </message>
    <message>
        <source>Approve</source>
        <translation>Approve</translation>
    </message>
    <message>
        <source>Reject</source>
        <translation>Reject</translation>
    </message>
    <message>
        <source>Suspend</source>
        <translation>Suspend</translation>
    </message>
    <message>
        <source>All checks passed</source>
        <translation>All checks passed</translation>
    </message>
    <message>
        <source>Document expired</source>
        <translation>Document expired</translation>
    </message>
    <message>
        <source>Document damaged or unreadable</source>
        <translation>Document damaged or unreadable</translation>
    </message>
    <message>
        <source>Data do not match</source>
        <translation>Data do not match</translation>
    </message>
    <message>
        <source>Poor video quality</source>
        <translation>Poor video quality</translation>
    </message>
    <message>
        <source>Poor audio quality</source>
        <translation>Poor audio quality</translation>
    </message>
    <message>
        <source>Applicant refused to continue</source>
        <translation>Applicant refused to continue</translation>
    </message>
    <message>
        <source>Suspected fraud</source>
        <translation>Suspected fraud</translation>
    </message>
    <message>
        <source>A third person is present</source>
        <translation>A third person is present</translation>
    </message>
    <message>
        <source>SMS code not verified</source>
        <translation>SMS code not verified</translation>
    </message>
    <message>
        <source>Face does not match the document</source>
        <translation>Face does not match the document</translation>
    </message>
    <message>
        <source>Connection lost</source>
        <translation>Connection lost</translation>
    </message>
    <message>
        <source>Other (explain in the note)</source>
        <translation>Other (explain in the note)</translation>
    </message>
    <message>
        <source>SPID (personal)</source>
        <translation>SPID (personal)</translation>
    </message>
    <message>
        <source>SPID (professional)</source>
        <translation>SPID (professional)</translation>
    </message>
    <message>
        <source>Digital signature</source>
        <translation>Digital signature</translation>
    </message>
    <message>
        <source>CNS</source>
        <translation>CNS</translation>
    </message>
    <message>
        <source>the applicant's consent</source>
        <translation>the applicant's consent</translation>
    </message>
    <message>
        <source>a verified SMS code in this session</source>
        <translation>a verified SMS code in this session</translation>
    </message>
    <message>
        <source>the confirmed e-mail address</source>
        <translation>the confirmed e-mail address</translation>
    </message>
    <message>
        <source>the session's recording, uploaded</source>
        <translation>the session's recording, uploaded</translation>
    </message>
    <message>
        <source>the card read or the document checks</source>
        <translation>the card read or the document checks</translation>
    </message>
    <message>
        <source>the signed form</source>
        <translation>the signed form</translation>
    </message>
    <message>
        <source>the capture: %1</source>
        <translation>the capture: %1</translation>
    </message>
    <message>
        <source>Still missing:</source>
        <translation>Still missing:</translation>
    </message>
</context>
<context>
    <name>OtpPanel</name>
    <message>
        <source>SMS code</source>
        <translation>SMS code</translation>
    </message>
    <message>
        <source>Send code</source>
        <translation>Send code</translation>
    </message>
    <message>
        <source>code read by the applicant</source>
        <translation>code read by the applicant</translation>
    </message>
    <message>
        <source>Verify</source>
        <translation>Verify</translation>
    </message>
    <message>
        <source>Not sent yet.</source>
        <translation>Not sent yet.</translation>
    </message>
    <message>
        <source>Send again</source>
        <translation>Send again</translation>
    </message>
    <message>
        <source>Code sent. Attempts left: %1</source>
        <translation>Code sent. Attempts left: %1</translation>
    </message>
    <message>
        <source>Code verified.</source>
        <translation>Code verified.</translation>
    </message>
    <message>
        <source>Wrong code: no attempts left. The step is failed.</source>
        <translation>Wrong code: no attempts left. The step is failed.</translation>
    </message>
    <message>
        <source>Wrong code. Attempts left: %1</source>
        <translation>Wrong code. Attempts left: %1</translation>
    </message>
    <message>
        <source>Applicant said: %1</source>
        <translation>Applicant said: %1</translation>
    </message>
    <message>
        <source>Sending…</source>
        <translation>Sending…</translation>
    </message>
    <message>
        <source>The code has 6 digits.</source>
        <translation>The code has 6 digits.</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>Checking…</translation>
    </message>
</context>
<context>
    <name>PlayerWindow</name>
    <message>
        <source>Session player — %1</source>
        <translation>Session player — %1</translation>
    </message>
    <message>
        <source>Applicant</source>
        <translation>Applicant</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>Operator</translation>
    </message>
    <message>
        <source>Play</source>
        <translation>Play</translation>
    </message>
    <message>
        <source>Previous frame (Left)</source>
        <translation>Previous frame (Left)</translation>
    </message>
    <message>
        <source>Next frame (Right)</source>
        <translation>Next frame (Right)</translation>
    </message>
    <message>
        <source>Zoom on the applicant's video (+/-)</source>
        <translation>Zoom on the applicant's video (+/-)</translation>
    </message>
    <message>
        <source>Zoom</source>
        <translation>Zoom</translation>
    </message>
    <message>
        <source>Trainer's notes (saved beside the package)</source>
        <translation>Trainer's notes (saved beside the package)</translation>
    </message>
    <message>
        <source>Note at the current moment</source>
        <translation>Note at the current moment</translation>
    </message>
    <message>
        <source>Add note</source>
        <translation>Add note</translation>
    </message>
    <message>
        <source>The note could not be saved.</source>
        <translation>The note could not be saved.</translation>
    </message>
    <message>
        <source>Note saved.</source>
        <translation>Note saved.</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>Pause</translation>
    </message>
    <message>
        <source>The recording cannot be played.</source>
        <translation>The recording cannot be played.</translation>
    </message>
    <message>
        <source>Session player</source>
        <translation>Session player</translation>
    </message>
    <message>
        <source>There is no such package.</source>
        <translation>There is no such package.</translation>
    </message>
    <message>
        <source>This package is sealed: the reviewer's key is needed.</source>
        <translation>This package is sealed: the reviewer's key is needed.</translation>
    </message>
    <message>
        <source>The package could not be decrypted with this key.</source>
        <translation>The package could not be decrypted with this key.</translation>
    </message>
    <message>
        <source>This is not an evidence package.</source>
        <translation>This is not an evidence package.</translation>
    </message>
    <message>
        <source>The package has no playable recording.</source>
        <translation>The package has no playable recording.</translation>
    </message>
</context>
<context>
    <name>QualityIndicator</name>
    <message>
        <source>Network: %1</source>
        <translation>Network: %1</translation>
    </message>
    <message>
        <source>loss</source>
        <translation>loss</translation>
    </message>
</context>
<context>
    <name>QueueView</name>
    <message>
        <source>Waiting applicants</source>
        <translation>Waiting applicants</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Product</translation>
    </message>
    <message>
        <source>Waiting since</source>
        <translation>Waiting since</translation>
    </message>
    <message>
        <source>Wait</source>
        <translation>Wait</translation>
    </message>
    <message>
        <source>Appointment</source>
        <translation>Appointment</translation>
    </message>
    <message>
        <source>Take next applicant</source>
        <translation>Take next applicant</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>Refresh</translation>
    </message>
    <message>
        <source>Nobody waiting</source>
        <translation>Nobody waiting</translation>
    </message>
    <message numerus="yes">
        <source>%n waiting</source>
        <translation><numerusform>%n waiting</numerusform><numerusform>%n waiting</numerusform></translation>
    </message>
    <message numerus="yes">
        <source>%n appointments today</source>
        <translation><numerusform>%n appointment today</numerusform><numerusform>%n appointments today</numerusform></translation>
    </message>
</context>
<context>
    <name>ReviewWindow</name>
    <message>
        <source>Recognition console — review</source>
        <extracomment>emitted after each load (tests, benchmarks): what was loaded</extracomment>
        <translation>Recognition console — review</translation>
    </message>
    <message>
        <source>Requests</source>
        <translation>Requests</translation>
    </message>
    <message>
        <source>Evidence</source>
        <translation>Evidence</translation>
    </message>
    <message>
        <source>Suspended</source>
        <translation>Suspended</translation>
    </message>
    <message>
        <source>In call</source>
        <translation>In call</translation>
    </message>
    <message>
        <source>Waiting</source>
        <translation>Waiting</translation>
    </message>
    <message>
        <source>Rejected</source>
        <translation>Rejected</translation>
    </message>
    <message>
        <source>Approved</source>
        <translation>Approved</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>Refresh</translation>
    </message>
    <message>
        <source>State:</source>
        <translation>State:</translation>
    </message>
    <message>
        <source>Applicant</source>
        <translation>Applicant</translation>
    </message>
    <message>
        <source>Service</source>
        <translation>Service</translation>
    </message>
    <message>
        <source>Booking code</source>
        <translation>Booking code</translation>
    </message>
    <message>
        <source>Registered</source>
        <translation>Registered</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>Loading…</translation>
    </message>
    <message numerus="yes">
        <source>%n request(s)</source>
        <translation><numerusform>%n request(s)</numerusform><numerusform>%n request(s)</numerusform></translation>
    </message>
    <message>
        <source>Search</source>
        <translation>Search</translation>
    </message>
    <message>
        <source>Stored on:</source>
        <translation>Stored on:</translation>
    </message>
    <message>
        <source>Stored</source>
        <translation>Stored</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>Operator</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Size</translation>
    </message>
    <message numerus="yes">
        <source>%n package(s)</source>
        <translation><numerusform>%n package(s)</numerusform><numerusform>%n package(s)</numerusform></translation>
    </message>
</context>
<context>
    <name>Script</name>
    <message>
        <source>Consent to recording and 20-year retention</source>
        <translation>Consent to recording and 20-year retention</translation>
    </message>
    <message>
        <source>Operator states their identity</source>
        <translation>Operator states their identity</translation>
    </message>
    <message>
        <source>Applicant confirms personal data</source>
        <translation>Applicant confirms personal data</translation>
    </message>
    <message>
        <source>Applicant states date and time</source>
        <translation>Applicant states date and time</translation>
    </message>
    <message>
        <source>Applicant confirms the will to obtain the identity</source>
        <translation>Applicant confirms the will to obtain the identity</translation>
    </message>
    <message>
        <source>Applicant confirms mobile and e-mail</source>
        <translation>Applicant confirms mobile and e-mail</translation>
    </message>
    <message>
        <source>SMS code read back (and e-mail link)</source>
        <translation>SMS code read back (and e-mail link)</translation>
    </message>
    <message>
        <source>Applicant knows the kinds of credentials</source>
        <translation>Applicant knows the kinds of credentials</translation>
    </message>
    <message>
        <source>Identity document, front and back</source>
        <translation>Identity document, front and back</translation>
    </message>
    <message>
        <source>Tessera Sanitaria shown</source>
        <translation>Tessera Sanitaria shown</translation>
    </message>
    <message>
        <source>Applicant accepts the terms</source>
        <translation>Applicant accepts the terms</translation>
    </message>
    <message>
        <source>Random action</source>
        <translation>Random action</translation>
    </message>
    <message>
        <source>Operator summarises, applicant confirms</source>
        <translation>Operator summarises, applicant confirms</translation>
    </message>
    <message>
        <source>Face to the camera</source>
        <translation>Face to the camera</translation>
    </message>
    <message>
        <source>Signed request form</source>
        <translation>Signed request form</translation>
    </message>
    <message>
        <source>Document intact and valid</source>
        <translation>Document intact and valid</translation>
    </message>
    <message>
        <source>Codice fiscale checked on the card</source>
        <translation>Codice fiscale checked on the card</translation>
    </message>
    <message>
        <source>Front</source>
        <translation>Front</translation>
    </message>
    <message>
        <source>Back</source>
        <translation>Back</translation>
    </message>
    <message>
        <source>Card</source>
        <translation>Card</translation>
    </message>
    <message>
        <source>Face</source>
        <translation>Face</translation>
    </message>
    <message>
        <source>Form</source>
        <translation>Form</translation>
    </message>
    <message>
        <source>Raise the right hand</source>
        <translation>Raise the right hand</translation>
    </message>
    <message>
        <source>Raise the left hand</source>
        <translation>Raise the left hand</translation>
    </message>
    <message>
        <source>Turn the head to the left</source>
        <translation>Turn the head to the left</translation>
    </message>
    <message>
        <source>Turn the head to the right</source>
        <translation>Turn the head to the right</translation>
    </message>
    <message>
        <source>Touch the nose with the index finger</source>
        <translation>Touch the nose with the index finger</translation>
    </message>
    <message>
        <source>Show three fingers</source>
        <translation>Show three fingers</translation>
    </message>
    <message>
        <source>Cover the left eye</source>
        <translation>Cover the left eye</translation>
    </message>
    <message>
        <source>Look up, then back at the camera</source>
        <translation>Look up, then back at the camera</translation>
    </message>
    <message>
        <source>Touch the right ear</source>
        <translation>Touch the right ear</translation>
    </message>
    <message>
        <source>Nod twice</source>
        <translation>Nod twice</translation>
    </message>
</context>
<context>
    <name>ScriptChecklist</name>
    <message>
        <source>Ask the applicant's camera for a full-resolution still</source>
        <translation>Ask the applicant's camera for a full-resolution still</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>Step</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Time</translation>
    </message>
    <message>
        <source>↑/↓ move · Space/Enter passed · F failed · S skip · C capture</source>
        <translation>↑/↓ move · Space/Enter passed · F failed · S skip · C capture</translation>
    </message>
    <message>
        <source>(optional)</source>
        <translation>(optional)</translation>
    </message>
    <message>
        <source>waiting…</source>
        <translation>waiting…</translation>
    </message>
</context>
<context>
    <name>SessionWindow</name>
    <message>
        <source>Waiting for the applicant's video…</source>
        <translation>Waiting for the applicant's video…</translation>
    </message>
    <message>
        <source>Your camera</source>
        <translation>Your camera</translation>
    </message>
    <message>
        <source>Call</source>
        <translation>Call</translation>
    </message>
    <message>
        <source>Mute</source>
        <translation>Mute</translation>
    </message>
    <message>
        <source>Camera off</source>
        <translation>Camera off</translation>
    </message>
    <message>
        <source>Hang up</source>
        <translation>Hang up</translation>
    </message>
    <message>
        <source>Decision…</source>
        <translation>Decision…</translation>
    </message>
    <message>
        <source>Back to the queue</source>
        <translation>Back to the queue</translation>
    </message>
    <message>
        <source>Show the random action to the applicant</source>
        <translation>Show the random action to the applicant</translation>
    </message>
    <message>
        <source>Check liveness (random challenges)</source>
        <translation>Check liveness (random challenges)</translation>
    </message>
    <message>
        <source>Script</source>
        <translation>Script</translation>
    </message>
    <message>
        <source>session %1</source>
        <translation>session %1</translation>
    </message>
    <message>
        <source>Press "Call" to start the video call.</source>
        <translation>Press "Call" to start the video call.</translation>
    </message>
    <message>
        <source>Capture every still of this step first.</source>
        <translation>Capture every still of this step first.</translation>
    </message>
    <message>
        <source>The SMS code is not verified yet.</source>
        <translation>The SMS code is not verified yet.</translation>
    </message>
    <message>
        <source>A required step cannot be skipped.</source>
        <translation>A required step cannot be skipped.</translation>
    </message>
    <message>
        <source>Ask the random action first.</source>
        <translation>Ask the random action first.</translation>
    </message>
    <message>
        <source>Unmute</source>
        <translation>Unmute</translation>
    </message>
    <message>
        <source>Camera on</source>
        <translation>Camera on</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Connecting…</translation>
    </message>
    <message>
        <source>Connected</source>
        <translation>Connected</translation>
    </message>
    <message>
        <source>Reconnecting…</source>
        <translation>Reconnecting…</translation>
    </message>
    <message>
        <source>Connection lost</source>
        <translation>Connection lost</translation>
    </message>
    <message>
        <source>Call ended</source>
        <translation>Call ended</translation>
    </message>
    <message>
        <source>Call failed</source>
        <translation>Call failed</translation>
    </message>
    <message>
        <source>Connection lost. Waiting for the applicant: the call resumes by itself.</source>
        <translation>Connection lost. Waiting for the applicant: the call resumes by itself.</translation>
    </message>
    <message>
        <source>Call ended.</source>
        <translation>Call ended.</translation>
    </message>
    <message>
        <source>Disconnected</source>
        <translation>Disconnected</translation>
    </message>
    <message>
        <source>The desk service no longer accepts your sign-in: the call was ended. Sign in again.</source>
        <translation>The desk service no longer accepts your sign-in: the call was ended. Sign in again.</translation>
    </message>
    <message>
        <source>Reconnecting since %1…</source>
        <translation>Reconnecting since %1…</translation>
    </message>
    <message>
        <source>Connection interrupted at %1: the console reconnects by itself and the call resumes when the connection is back.</source>
        <translation>Connection interrupted at %1: the console reconnects by itself and the call resumes when the connection is back.</translation>
    </message>
    <message>
        <source>No camera: the applicant sees a placeholder.</source>
        <translation>No camera: the applicant sees a placeholder.</translation>
    </message>
    <message>
        <source>No microphone: the applicant hears silence.</source>
        <translation>No microphone: the applicant hears silence.</translation>
    </message>
    <message>
        <source>The applicant is not connected yet.</source>
        <translation>The applicant is not connected yet.</translation>
    </message>
    <message>
        <source>The media connection could not be established.</source>
        <translation>The media connection could not be established.</translation>
    </message>
    <message>
        <source>unreadable image</source>
        <translation>unreadable image</translation>
    </message>
    <message>
        <source>The liveness check did not pass: approving asks for a supervisor's second look.</source>
        <translation>The liveness check did not pass: approving asks for a supervisor's second look.</translation>
    </message>
    <message>
        <source>Run the liveness check first (random challenges).</source>
        <translation>Run the liveness check first (random challenges).</translation>
    </message>
    <message>
        <source>The automated face comparison says different person: approving asks for a supervisor's second look.</source>
        <translation>The automated face comparison says different person: approving asks for a supervisor's second look.</translation>
    </message>
    <message>
        <source>Signs of a virtual or injected camera: approving asks for the reason to go on, which is recorded.</source>
        <translation>Signs of a virtual or injected camera: approving asks for the reason to go on, which is recorded.</translation>
    </message>
    <message>
        <source>Camera injection suspected</source>
        <translation>Camera injection suspected</translation>
    </message>
    <message>
        <source>The applicant's camera shows signs of a virtual or injected video. Why can the approval go on? (recorded)</source>
        <translation>The applicant's camera shows signs of a virtual or injected video. Why can the approval go on? (recorded)</translation>
    </message>
    <message>
        <source>The liveness check needs the call connected.</source>
        <translation>The liveness check needs the call connected.</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>Settings</translation>
    </message>
    <message>
        <source>system certificates</source>
        <translation>system certificates</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>Browse…</translation>
    </message>
    <message>
        <source>General</source>
        <translation>General</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Language</translation>
    </message>
    <message>
        <source>The language changes for windows opened from now on.</source>
        <translation>The language changes for windows opened from now on.</translation>
    </message>
    <message>
        <source>Devices</source>
        <translation>Devices</translation>
    </message>
    <message>
        <source>Camera</source>
        <translation>Camera</translation>
    </message>
    <message>
        <source>Microphone</source>
        <translation>Microphone</translation>
    </message>
    <message>
        <source>Speaker</source>
        <translation>Speaker</translation>
    </message>
    <message>
        <source>Desk service</source>
        <translation>Desk service</translation>
    </message>
    <message>
        <source>Server URL</source>
        <translation>Server URL</translation>
    </message>
    <message>
        <source>CA bundle (PEM)</source>
        <translation>CA bundle (PEM)</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>Save</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>System default</source>
        <translation>System default</translation>
    </message>
    <message>
        <source>No camera found: a placeholder is sent</source>
        <translation>No camera found: a placeholder is sent</translation>
    </message>
    <message>
        <source>No microphone found: silence is sent</source>
        <translation>No microphone found: silence is sent</translation>
    </message>
    <message>
        <source>No speaker found</source>
        <translation>No speaker found</translation>
    </message>
    <message>
        <source>CA bundle</source>
        <translation>CA bundle</translation>
    </message>
    <message>
        <source>Certificates (*.pem *.crt);;All files (*)</source>
        <translation>Certificates (*.pem *.crt);;All files (*)</translation>
    </message>
    <message>
        <source>The server address is not a valid http(s) URL.</source>
        <translation>The server address is not a valid http(s) URL.</translation>
    </message>
    <message>
        <source>The CA bundle file does not exist.</source>
        <translation>The CA bundle file does not exist.</translation>
    </message>
</context>
<context>
    <name>SignInWindow</name>
    <message>
        <source>Recognition console — sign in</source>
        <translation>Recognition console — sign in</translation>
    </message>
    <message>
        <source>INFOCERT · RECOGNITION DESK</source>
        <translation>INFOCERT · RECOGNITION DESK</translation>
    </message>
    <message>
        <source>Sign in</source>
        <translation>Sign in</translation>
    </message>
    <message>
        <source>Operator access to the remote recognition desk.</source>
        <translation>Operator access to the remote recognition desk.</translation>
    </message>
    <message>
        <source>user name</source>
        <translation>user name</translation>
    </message>
    <message>
        <source>6 digits from the authenticator app</source>
        <translation>6 digits from the authenticator app</translation>
    </message>
    <message>
        <source>Remember me on this computer (system keyring)</source>
        <translation>Remember me on this computer (system keyring)</translation>
    </message>
    <message>
        <source>Server</source>
        <translation>Server</translation>
    </message>
    <message>
        <source>User</source>
        <translation>User</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>Password</translation>
    </message>
    <message>
        <source>Code (TOTP)</source>
        <translation>Code (TOTP)</translation>
    </message>
    <message>
        <source>Signing in…</source>
        <translation>Signing in…</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>Settings…</translation>
    </message>
</context>
<context>
    <name>SupervisorDialog</name>
    <message>
        <source>Supervisor's second look</source>
        <translation>Supervisor's second look</translation>
    </message>
    <message>
        <source>The automated comparison says the applicant's face and the document photo belong to different people. To approve, a supervisor must look at the call and the stills and confirm here with their own credentials.</source>
        <translation>The automated comparison says the applicant's face and the document photo belong to different people. To approve, a supervisor must look at the call and the stills and confirm here with their own credentials.</translation>
    </message>
    <message>
        <source>6 digits</source>
        <translation>6 digits</translation>
    </message>
    <message>
        <source>Supervisor</source>
        <translation>Supervisor</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>Password</translation>
    </message>
    <message>
        <source>Authenticator code</source>
        <translation>Authenticator code</translation>
    </message>
    <message>
        <source>Confirm and approve</source>
        <translation>Confirm and approve</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>Fill in the supervisor, the password and the code.</source>
        <translation>Fill in the supervisor, the password and the code.</translation>
    </message>
    <message>
        <source>This account is not a supervisor.</source>
        <translation>This account is not a supervisor.</translation>
    </message>
    <message>
        <source>The second look must be by another person.</source>
        <translation>The second look must be by another person.</translation>
    </message>
</context>
<context>
    <name>TimelineWidget</name>
    <message>
        <source>Step</source>
        <translation>Step</translation>
    </message>
    <message>
        <source>Capture</source>
        <translation>Capture</translation>
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
        <translation>Connection</translation>
    </message>
    <message>
        <source>Gap</source>
        <translation>Gap</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>Note</translation>
    </message>
    <message>
        <source>Decision</source>
        <translation>Decision</translation>
    </message>
</context>
<context>
    <name>TrainingWindow</name>
    <message>
        <source>Training</source>
        <translation>Training</translation>
    </message>
    <message>
        <source>Runs</source>
        <translation>Runs</translation>
    </message>
    <message>
        <source>Scenarios</source>
        <translation>Scenarios</translation>
    </message>
    <message>
        <source>Folder…</source>
        <translation>Folder…</translation>
    </message>
    <message>
        <source>Reload</source>
        <translation>Reload</translation>
    </message>
    <message>
        <source>Reports in</source>
        <translation>Reports in</translation>
    </message>
    <message>
        <source>Trainee</source>
        <translation>Trainee</translation>
    </message>
    <message>
        <source>Scenario</source>
        <translation>Scenario</translation>
    </message>
    <message>
        <source>Decision</source>
        <translation>Decision</translation>
    </message>
    <message>
        <source>Expected</source>
        <translation>Expected</translation>
    </message>
    <message>
        <source>Correct</source>
        <translation>Correct</translation>
    </message>
    <message>
        <source>Missed findings</source>
        <translation>Missed findings</translation>
    </message>
    <message>
        <source>Skipped steps</source>
        <translation>Skipped steps</translation>
    </message>
    <message>
        <source>Time (s)</source>
        <translation>Time (s)</translation>
    </message>
    <message>
        <source>Folder of reports</source>
        <translation>Folder of reports</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>yes</translation>
    </message>
    <message>
        <source>NO</source>
        <translation>NO</translation>
    </message>
    <message>
        <source>%1 of %2 runs correct</source>
        <translation>%1 of %2 runs correct</translation>
    </message>
    <message>
        <source>unreadable: %1</source>
        <translation>unreadable: %1</translation>
    </message>
    <message>
        <source>Start in the console</source>
        <translation>Start in the console</translation>
    </message>
    <message>
        <source>Start a pack folder…</source>
        <translation>Start a pack folder…</translation>
    </message>
    <message>
        <source>Replay a recorded session…</source>
        <translation>Replay a recorded session…</translation>
    </message>
    <message>
        <source>The scenario could not be prepared.</source>
        <translation>The scenario could not be prepared.</translation>
    </message>
    <message>
        <source>Scenario pack</source>
        <translation>Scenario pack</translation>
    </message>
    <message>
        <source>This folder is not a scenario pack.</source>
        <translation>This folder is not a scenario pack.</translation>
    </message>
    <message>
        <source>Sign in to a desk service first.</source>
        <translation>Sign in to a desk service first.</translation>
    </message>
    <message>
        <source>The desk service refused the scenario.</source>
        <translation>The desk service refused the scenario.</translation>
    </message>
    <message>
        <source>Scenario “%1” is joining the queue (booking code %2): take it from the queue and work the session; the run is graded at the decision.</source>
        <translation>Scenario “%1” is joining the queue (booking code %2): take it from the queue and work the session; the run is graded at the decision.</translation>
    </message>
    <message>
        <source>Run graded: %1.</source>
        <translation>Run graded: %1.</translation>
    </message>
    <message>
        <source>correct</source>
        <translation>correct</translation>
    </message>
    <message>
        <source>wrong</source>
        <translation>wrong</translation>
    </message>
    <message>
        <source>Evidence package</source>
        <translation>Evidence package</translation>
    </message>
    <message>
        <source>&amp;Training</source>
        <translation>&amp;Training</translation>
    </message>
    <message>
        <source>Training runs and scenarios…</source>
        <translation>Training runs and scenarios…</translation>
    </message>
</context>
</TS>