"""Transcripts (成绩单): a student's published course results issued as a PDF in Chinese or in
English, each issue recorded with a snapshot of what it says and a verification code whose QR
opens a public page that confirms it."""
