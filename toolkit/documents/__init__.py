"""Documents for readers: notices (通报), receipts, supervision slips, 公文 .docx, charts and the dashboard.

They render figures handed to them; they compute no rule of their own.
"""
