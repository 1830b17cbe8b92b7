"""Media: every file a crawl keeps goes to FILES_STORE (a local folder or
``s3://bucket/prefix/``) and becomes a ``media_files`` row (written by the
store pipeline from the item's ``files``).  Two paths:

* ``files.MediaFilesPipeline`` — Scrapy's FilesPipeline: images, previews,
  forum attachments.  Small files; each is held in memory while it is
  fetched through Scrapy's downloader (so the spider's politeness applies).
* ``streaming.StreamingFilesPipeline`` — large files (multitrack ZIPs up to
  2.2 GB, uncompressed audio): URLs whose path ends in
  ``MEDIA_STREAM_EXTENSIONS``.  Its HTTP side (``http.FileStreamer``: HEAD,
  a streamed GET to a part file, resumed with ``Range``, size and checksum
  verified) runs on a small thread pool, never on the reactor thread; the
  finished file goes to a store chosen by the URI's scheme
  (``stores.STORE_SCHEMES``: a folder, or S3 through boto3 multipart).

The streaming pipeline runs first, takes its URLs out of ``file_urls`` and
puts its results in ``files``; FilesPipeline then fetches the rest and adds
its own results.  Both name files the same way (``paths.media_path``).
"""
