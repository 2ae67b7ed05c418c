-- Generated from sentiment/store/schema.py; regenerate with: python -m sentiment.store.schema > sql/schema.sql

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
	query TEXT, 
	pages INTEGER, 
	rate_limited BOOLEAN, 
	cursor_before JSON, 
	cursor_after JSON, 
	api_errors JSON, 
	status VARCHAR(16), 
	error TEXT, 
	owner VARCHAR(160), 
	stream_stats JSON, 
	PRIMARY KEY (id), 
	UNIQUE (fingerprint)
);

CREATE INDEX ix_ingest_batches_source_query ON ingest_batches (source, query);

CREATE TABLE model_versions (
	id SERIAL NOT NULL, 
	created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	base_checkpoint TEXT NOT NULL, 
	artifact_path TEXT NOT NULL, 
	label_set VARCHAR(256) NOT NULL, 
	hyperparameters JSON NOT NULL, 
	data_snapshot JSON NOT NULL, 
	metrics JSON, 
	test_macro_f1 FLOAT, 
	test_accuracy FLOAT, 
	status VARCHAR(16) NOT NULL, 
	promotion JSON, 
	train_seconds FLOAT, 
	test_set_id INTEGER, 
	owner VARCHAR(160), 
	PRIMARY KEY (id)
);

CREATE INDEX ix_model_versions_status ON model_versions (status);

CREATE TABLE test_sets (
	id SERIAL NOT NULL, 
	label_set VARCHAR(256) NOT NULL, 
	size INTEGER NOT NULL, 
	class_counts JSON NOT NULL, 
	frozen_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	note TEXT, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_test_sets_label_set ON test_sets (label_set, id);

CREATE TABLE annotation_batches (
	id SERIAL NOT NULL, 
	created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	strategy VARCHAR(16) NOT NULL, 
	label_set VARCHAR(256) NOT NULL, 
	model_version_id INTEGER, 
	requested INTEGER NOT NULL, 
	sent INTEGER NOT NULL, 
	out_path TEXT, 
	label_studio_project TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(model_version_id) REFERENCES model_versions (id)
);

CREATE TABLE daily_reports (
	id SERIAL NOT NULL, 
	created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	model_version_id INTEGER, 
	tweets_scored INTEGER NOT NULL, 
	mean_confidence FLOAT, 
	summary JSON NOT NULL, 
	report_path TEXT NOT NULL, 
	html_path TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(model_version_id) REFERENCES model_versions (id)
);

CREATE TABLE evaluation_reports (
	id SERIAL NOT NULL, 
	model_version_id INTEGER NOT NULL, 
	dataset TEXT NOT NULL, 
	n INTEGER NOT NULL, 
	accuracy FLOAT NOT NULL, 
	macro_f1 FLOAT NOT NULL, 
	weighted_f1 FLOAT NOT NULL, 
	metrics JSON NOT NULL, 
	report_path TEXT NOT NULL, 
	plots JSON NOT NULL, 
	created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	html_path TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(model_version_id) REFERENCES model_versions (id)
);

CREATE INDEX ix_evaluation_reports_model_version ON evaluation_reports (model_version_id);

CREATE TABLE evaluation_slices (
	id SERIAL NOT NULL, 
	model_version_id INTEGER NOT NULL, 
	test_set_id INTEGER, 
	grp VARCHAR(32) NOT NULL, 
	slice VARCHAR(96) NOT NULL, 
	n INTEGER NOT NULL, 
	macro_f1 FLOAT NOT NULL, 
	low FLOAT, 
	high FLOAT, 
	worst BOOLEAN NOT NULL, 
	created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(model_version_id) REFERENCES model_versions (id)
);

CREATE INDEX ix_evaluation_slices_version ON evaluation_slices (model_version_id);

CREATE TABLE pull_cursors (
	source VARCHAR(16) NOT NULL, 
	query VARCHAR(512) NOT NULL, 
	position JSON NOT NULL, 
	version INTEGER NOT NULL, 
	newest_id VARCHAR(96), 
	newest_at TIMESTAMP WITHOUT TIME ZONE, 
	status VARCHAR(16) NOT NULL, 
	last_pull_at TIMESTAMP WITHOUT TIME ZONE, 
	last_batch_id INTEGER, 
	rate_limit_reset_at TIMESTAMP WITHOUT TIME ZONE, 
	last_error TEXT, 
	pulls INTEGER NOT NULL, 
	posts_stored INTEGER NOT NULL, 
	PRIMARY KEY (source, query), 
	FOREIGN KEY(last_batch_id) REFERENCES ingest_batches (id)
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

CREATE TABLE retrain_decisions (
	id SERIAL NOT NULL, 
	decided_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	label_set VARCHAR(256) NOT NULL, 
	champion_id INTEGER, 
	retrain BOOLEAN NOT NULL, 
	reasons JSON NOT NULL, 
	new_labels INTEGER NOT NULL, 
	label_psi FLOAT, 
	confidence_psi FLOAT, 
	details JSON NOT NULL, 
	flow_run_id VARCHAR(64), 
	triggered_flow_run_id VARCHAR(64), 
	PRIMARY KEY (id), 
	FOREIGN KEY(champion_id) REFERENCES model_versions (id)
);

CREATE INDEX ix_retrain_decisions_label_set_decided ON retrain_decisions (label_set, decided_at);

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
	deleted_at TIMESTAMP WITHOUT TIME ZONE, 
	PRIMARY KEY (id), 
	FOREIGN KEY(batch_id) REFERENCES ingest_batches (id)
);

CREATE INDEX ix_tweets_batch_id ON tweets (batch_id);

CREATE INDEX ix_tweets_created_at ON tweets (created_at);

CREATE TABLE annotation_tasks (
	batch_id INTEGER NOT NULL, 
	tweet_id VARCHAR(96) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	predicted VARCHAR(32), 
	confidence FLOAT, 
	margin FLOAT, 
	sent_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	PRIMARY KEY (batch_id, tweet_id), 
	FOREIGN KEY(batch_id) REFERENCES annotation_batches (id), 
	FOREIGN KEY(tweet_id) REFERENCES tweets (id)
);

CREATE INDEX ix_annotation_tasks_tweet_status ON annotation_tasks (tweet_id, status);

CREATE TABLE annotations (
	id SERIAL NOT NULL, 
	ref VARCHAR(160) NOT NULL, 
	tweet_id VARCHAR(96) NOT NULL, 
	annotator VARCHAR(256) NOT NULL, 
	label VARCHAR(32) NOT NULL, 
	annotated_at TIMESTAMP WITHOUT TIME ZONE, 
	batch_id INTEGER NOT NULL, 
	imported_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (ref), 
	FOREIGN KEY(tweet_id) REFERENCES tweets (id), 
	FOREIGN KEY(batch_id) REFERENCES ingest_batches (id)
);

CREATE INDEX ix_annotations_tweet ON annotations (tweet_id);

CREATE TABLE labels (
	id SERIAL NOT NULL, 
	tweet_id VARCHAR(96) NOT NULL, 
	label VARCHAR(32) NOT NULL, 
	origin VARCHAR(16) NOT NULL, 
	batch_id INTEGER, 
	labeled_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	annotator VARCHAR(256), 
	PRIMARY KEY (id), 
	CONSTRAINT uq_labels_tweet_origin UNIQUE (tweet_id, origin), 
	FOREIGN KEY(tweet_id) REFERENCES tweets (id), 
	FOREIGN KEY(batch_id) REFERENCES ingest_batches (id)
);

CREATE INDEX ix_labels_origin_label ON labels (origin, label);

CREATE TABLE scores (
	id SERIAL NOT NULL, 
	tweet_id VARCHAR(96) NOT NULL, 
	model_version_id INTEGER NOT NULL, 
	label VARCHAR(32) NOT NULL, 
	confidence FLOAT NOT NULL, 
	p_negative FLOAT, 
	p_neutral FLOAT, 
	p_positive FLOAT, 
	probabilities JSON NOT NULL, 
	scored_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_scores_tweet_model UNIQUE (tweet_id, model_version_id), 
	FOREIGN KEY(tweet_id) REFERENCES tweets (id), 
	FOREIGN KEY(model_version_id) REFERENCES model_versions (id)
);

CREATE INDEX ix_scores_model_version_tweet ON scores (model_version_id, tweet_id);

CREATE TABLE test_tweets (
	label_set VARCHAR(256) NOT NULL, 
	tweet_id VARCHAR(96) NOT NULL, 
	label VARCHAR(32) NOT NULL, 
	frozen_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	test_set_id INTEGER, 
	PRIMARY KEY (label_set, tweet_id), 
	FOREIGN KEY(tweet_id) REFERENCES tweets (id)
);
