"""Events published over MQTT: the topic tree and payloads (``topics``) and the publisher."""
