"""Facebook Pages over the Graph API: the adapter (adapter.py: limits, publishing,
reconciling, resolving), the Page account and its tokens (account.py), post and Page
insights (insights.py), the Graph plumbing (client.py) and Page listings (pages.py).

No secret (Page token, user token, app secret) ever appears in a message.
"""
