/** File information classes ([MS-FSCC] 2.4), as carried in SMB2 QUERY_INFO/SET_INFO/QUERY_DIRECTORY. */
export const FileInfoClass = {
  FileDirectoryInformation: 1,
  FileFullDirectoryInformation: 2,
  FileBothDirectoryInformation: 3,
  FileBasicInformation: 4,
  FileStandardInformation: 5,
  FileInternalInformation: 6,
  FileEaInformation: 7,
  FileAccessInformation: 8,
  FileNameInformation: 9,
  FileRenameInformation: 10,
  FileLinkInformation: 11,
  FileNamesInformation: 12,
  FileDispositionInformation: 13,
  FilePositionInformation: 14,
  FileFullEaInformation: 15,
  FileModeInformation: 16,
  FileAlignmentInformation: 17,
  FileAllInformation: 18,
  FileAllocationInformation: 19,
  FileEndOfFileInformation: 20,
  FileAlternateNameInformation: 21,
  FileStreamInformation: 22,
  FileCompressionInformation: 28,
  FileNetworkOpenInformation: 34,
  FileAttributeTagInformation: 35,
  FileIdBothDirectoryInformation: 37,
  FileIdFullDirectoryInformation: 38,
  FileValidDataLengthInformation: 39,
  FileShortNameInformation: 40,
  FileNormalizedNameInformation: 48,
  FileIdInformation: 59,
  FileIdExtdDirectoryInformation: 60,
  FileDispositionInformationEx: 64,
  FileRenameInformationEx: 65,
} as const;

/** File system information classes ([MS-FSCC] 2.5). */
export const FsInfoClass = {
  FileFsVolumeInformation: 1,
  FileFsLabelInformation: 2,
  FileFsSizeInformation: 3,
  FileFsDeviceInformation: 4,
  FileFsAttributeInformation: 5,
  FileFsControlInformation: 6,
  FileFsFullSizeInformation: 7,
  FileFsObjectIdInformation: 8,
  FileFsSectorSizeInformation: 11,
} as const;

/** FileSystemAttributes of FileFsAttributeInformation ([MS-FSCC] FileFsAttributeInformation). */
export const FsAttribute = {
  CASE_SENSITIVE_SEARCH: 0x00000001,
  CASE_PRESERVED_NAMES: 0x00000002,
  UNICODE_ON_DISK: 0x00000004,
  PERSISTENT_ACLS: 0x00000008,
  FILE_COMPRESSION: 0x00000010,
  VOLUME_QUOTAS: 0x00000020,
  SUPPORTS_SPARSE_FILES: 0x00000040,
  SUPPORTS_REPARSE_POINTS: 0x00000080,
  SUPPORTS_OBJECT_IDS: 0x00010000,
  SUPPORTS_ENCRYPTION: 0x00020000,
  NAMED_STREAMS: 0x00040000,
  READ_ONLY_VOLUME: 0x00080000,
  SUPPORTS_EXTENDED_ATTRIBUTES: 0x00800000,
} as const;

/**
 * What a backend that keeps extras (Backend.extras) adds to DEFAULT_FS_ATTRIBUTES: streams, EAs,
 * and security descriptors (kept with them, src/handlers/security-descriptor.ts).
 */
export const STREAMS_AND_EAS = FsAttribute.NAMED_STREAMS | FsAttribute.SUPPORTS_EXTENDED_ATTRIBUTES | FsAttribute.PERSISTENT_ACLS;

/*
 * What the POSIX backend can honestly claim: names keep their case and are Unicode. Not
 * CASE_SENSITIVE_SEARCH (lookups are case-insensitive). NAMED_STREAMS, SUPPORTS_EXTENDED_ATTRIBUTES
 * and PERSISTENT_ACLS where the backend keeps extras (FsInfo.fsAttributes).
 */
export const DEFAULT_FS_ATTRIBUTES = FsAttribute.CASE_PRESERVED_NAMES | FsAttribute.UNICODE_ON_DISK;

/** [MS-FSCC] FileFsDeviceInformation. */
export const FILE_DEVICE_DISK = 0x00000007;
export const FILE_DEVICE_IS_MOUNTED = 0x00000020;

/** [MS-FSCC] FileFsSectorSizeInformation flags. */
export const SSINFO_FLAGS_ALIGNED_DEVICE = 0x00000001;
export const SSINFO_FLAGS_PARTITION_ALIGNED_ON_DEVICE = 0x00000002;
