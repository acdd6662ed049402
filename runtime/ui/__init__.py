"""The runtime's Qt windows: login, navigation, record lists, record forms."""
