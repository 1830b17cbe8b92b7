"""SoundCloud: page and api-v2 parsers, the client_id store, api-v2 paging,
the graph crawl's frontier and DataDome detection."""
