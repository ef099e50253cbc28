"""Downloads: cutouts on a chosen background, and ZIPs of many items streamed as they are read."""
