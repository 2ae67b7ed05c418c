-- Generated from sentiment/db.py; regenerate with: python -m sentiment.db > sql/schema.sql

CREATE TABLE ingest_batches (
	id SERIAL NOT NULL, 
	source VARCHAR(32) NOT NULL, 
	origin TEXT NOT NULL, 
	fingerprint VARCHAR(160) NOT NULL, 
	format VARCHAR(32) NOT NULL, 
	rows_read INTEGER NOT NULL, 
	rows_inserted INTEGER NOT NULL, 
	rows_duplicate INTEGER NOT NULL, 
	rows_quarantined INTEGER NOT NULL, 
	label_conflicts INTEGER NOT NULL, 
	labels_inserted INTEGER NOT NULL, 
	started_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	finished_at TIMESTAMP WITHOUT TIME ZONE, 
	PRIMARY KEY (id), 
	UNIQUE (fingerprint)
);

CREATE TABLE quarantine (
	id SERIAL NOT NULL, 
	batch_id INTEGER NOT NULL, 
	source VARCHAR(32) NOT NULL, 
	location TEXT NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	tweet_id VARCHAR(96), 
	raw TEXT NOT NULL, 
	reasons JSON NOT NULL, 
	quarantined_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(batch_id) REFERENCES ingest_batches (id)
);

CREATE INDEX ix_quarantine_batch ON quarantine (batch_id);

CREATE TABLE tweets (
	id VARCHAR(96) NOT NULL, 
	source VARCHAR(32) NOT NULL, 
	source_id VARCHAR(80) NOT NULL, 
	text TEXT NOT NULL, 
	clean_text TEXT NOT NULL, 
	created_at TIMESTAMP WITHOUT TIME ZONE, 
	author VARCHAR(128), 
	lang VARCHAR(16), 
	topic TEXT, 
	batch_id INTEGER NOT NULL, 
	ingested_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(batch_id) REFERENCES ingest_batches (id)
);

CREATE INDEX ix_tweets_batch_id ON tweets (batch_id);

CREATE INDEX ix_tweets_created_at ON tweets (created_at);

CREATE TABLE labels (
	id SERIAL NOT NULL, 
	tweet_id VARCHAR(96) NOT NULL, 
	label VARCHAR(32) NOT NULL, 
	origin VARCHAR(16) NOT NULL, 
	batch_id INTEGER, 
	labeled_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_labels_tweet_origin UNIQUE (tweet_id, origin), 
	FOREIGN KEY(tweet_id) REFERENCES tweets (id), 
	FOREIGN KEY(batch_id) REFERENCES ingest_batches (id)
);

CREATE INDEX ix_labels_origin ON labels (origin);
