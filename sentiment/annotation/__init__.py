"""The labelling loop: tweets to annotators (Label Studio or CSV), their labels back."""
