namespace Eddy.Records;

/// <summary>The codec in a batch's attribute bits 0-2. The codecs themselves are the Kafka layer's: storage keeps
/// batches as they came.</summary>
public enum CompressionType : byte { None = 0, Gzip = 1, Snappy = 2, Lz4 = 3, Zstd = 4 }
