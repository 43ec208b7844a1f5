<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="it_IT">
<context>
    <name>DecisionDialog</name>
    <message>
        <source>Decision</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Approve</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reject</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Suspend (the applicant can be called again)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Approval is blocked: required steps not passed: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Note for the record (optional, required for &apos;Other&apos;)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reason</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Note</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Send decision</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Outcome of the recognition</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose an outcome.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Explain the reason in the note.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>LogView</name>
    <message>
        <source>Console log</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Debug</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Information</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Warnings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Errors</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Clear</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Close</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show:</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Recognition console</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Console</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Log…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Signed in: %1 (%2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Applicant assigned.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Decision recorded: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Desk service unreachable: the decision is kept and sent automatically later.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Decision not sent</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Messages</name>
    <message>
        <source>Wrong user name or password.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The one-time code from the authenticator app is wrong or expired.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account locked after too many failed attempts, until %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account locked after too many failed attempts. Try again later.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The desk service cannot be reached. Check the address and the network.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The server&apos;s TLS certificate is not trusted: check the address or the CA bundle.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your session has expired. Please sign in again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your account is not allowed to do this.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not found on the desk service.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Some fields are not valid.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Too soon: wait a moment before trying again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This request has already been decided.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The desk service had an internal problem. Try again shortly.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The desk service answered something unexpected.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Required steps are not passed yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No system keyring is available: the password cannot be remembered.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The server address is not a valid http(s) URL.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fill in user name, password and the 6-digit code.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nobody is waiting right now.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The applicant&apos;s camera is not available.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No answer in time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The call is not connected.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The media engine is not available on this installation.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unexpected error (%1).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Excellent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Good</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Poor</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Lost</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Measuring…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>To do</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Passed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Skipped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Approve</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reject</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Suspend</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>All checks passed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Document expired</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Document damaged or unreadable</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Data do not match</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Poor video quality</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Poor audio quality</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Applicant refused to continue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Suspected fraud</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A third person is present</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SMS code not verified</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Face does not match the document</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connection lost</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Other (explain in the note)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SPID (personal)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SPID (professional)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Digital signature</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CNS</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>OtpPanel</name>
    <message>
        <source>SMS code</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Send code</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>code read by the applicant</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Verify</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not sent yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Send again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Code sent. Attempts left: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Code verified.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Wrong code: no attempts left. The step is failed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Wrong code. Attempts left: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Applicant said: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sending…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The code has 6 digits.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>QualityIndicator</name>
    <message>
        <source>Network: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>loss</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>QueueView</name>
    <message>
        <source>Waiting applicants</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Product</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Waiting since</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Wait</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Appointment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Take next applicant</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nobody waiting</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n waiting</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n appointments today</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Script</name>
    <message>
        <source>Consent to recording and 20-year retention</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Operator states their identity</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Applicant confirms personal data</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Applicant states date and time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Applicant confirms the will to obtain the identity</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Applicant confirms mobile and e-mail</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SMS code read back (and e-mail link)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Applicant knows the kinds of credentials</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Identity document, front and back</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tessera Sanitaria shown</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Applicant accepts the terms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Random action</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Operator summarises, applicant confirms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Face to the camera</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Signed request form</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Document intact and valid</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Codice fiscale checked on the card</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Front</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Back</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Card</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Face</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Form</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Raise the right hand</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Raise the left hand</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Turn the head to the left</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Turn the head to the right</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Touch the nose with the index finger</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show three fingers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cover the left eye</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Look up, then back at the camera</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Touch the right ear</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nod twice</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ScriptChecklist</name>
    <message>
        <source>Ask the applicant&apos;s camera for a full-resolution still</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Step</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Still</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>↑/↓ move · Space/Enter passed · F failed · S skip · C capture</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(optional)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>waiting…</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SessionWindow</name>
    <message>
        <source>Waiting for the applicant&apos;s video…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your camera</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Call</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mute</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Camera off</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hang up</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Decision…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show the random action to the applicant</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Script</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>session %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Press &quot;Call&quot; to start the video call.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Capture every still of this step first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The SMS code is not verified yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A required step cannot be skipped.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ask the random action first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unmute</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Camera on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reconnecting…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connection lost</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Call ended</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Call failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connection lost. Waiting for the applicant: the call resumes by itself.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Call ended.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No camera: the applicant sees a placeholder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No microphone: the applicant hears silence.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The applicant is not connected yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The media connection could not be established.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unreadable image</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>system certificates</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>General</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Language</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The language changes for windows opened from now on.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Devices</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Camera</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Microphone</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Speaker</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Desk service</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Server URL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CA bundle (PEM)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>System default</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No camera found: a placeholder is sent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No microphone found: silence is sent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No speaker found</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CA bundle</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Certificates (*.pem *.crt);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The server address is not a valid http(s) URL.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The CA bundle file does not exist.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SignInWindow</name>
    <message>
        <source>Recognition console — sign in</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>INFOCERT · RECOGNITION DESK</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sign in</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Operator access to the remote recognition desk.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>user name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>6 digits from the authenticator app</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remember me on this computer (system keyring)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Server</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>User</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Password</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Code (TOTP)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Signing in…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
