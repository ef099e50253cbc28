"""Image intake and processing: validation, thumbnails, and the processors behind the `Processor` seam."""
