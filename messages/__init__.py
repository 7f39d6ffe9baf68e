"""Every word the hotline says or writes, one folder per locale (read by hotline.i18n).

messages/<locale>/voice.toml      what the phone line says (and the follow-up texts it sends)
messages/<locale>/sms.toml        the replies of the text line
messages/<locale>/staff/<area>.toml   the staff pages, one file per area: keys "<area>.<key>"
"""
