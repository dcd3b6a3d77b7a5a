/**
 * File system information records answered to QUERY_INFO (InfoType FILESYSTEM): the [MS-FSCC] 2.5
 * section named after each class.
 */
import { Status, fail } from '../status.js';
import type { FsInfo } from '../../vfs/types.js';
import {
  DEFAULT_FS_ATTRIBUTES,
  FILE_DEVICE_DISK,
  FILE_DEVICE_IS_MOUNTED,
  FsInfoClass,
  SSINFO_FLAGS_ALIGNED_DEVICE,
  SSINFO_FLAGS_PARTITION_ALIGNED_ON_DEVICE,
} from './constants.js';

export interface FsInfoOptions {
  /** FileSystemAttributes for FileFsAttributeInformation; DEFAULT_FS_ATTRIBUTES when absent. */
  fsAttributes?: number;
}

export function encodeFsInfo(infoClass: number, fs: FsInfo, opts: FsInfoOptions = {}): Buffer {
  const bytesPerUnit = BigInt(Math.max(1, fs.bytesPerSector * fs.sectorsPerAllocationUnit));
  switch (infoClass) {
    case FsInfoClass.FileFsVolumeInformation: {
      // FileFsVolumeInformation: VolumeCreationTime, VolumeSerialNumber, VolumeLabelLength, SupportsObjects, Reserved, VolumeLabel.
      const label = Buffer.from(fs.volumeLabel, 'utf16le');
      const buf = Buffer.alloc(18 + label.length);
      buf.writeBigUInt64LE(fs.volumeCreationTime, 0);
      buf.writeUInt32LE(fs.volumeSerial >>> 0, 8);
      buf.writeUInt32LE(label.length, 12);
      label.copy(buf, 18);
      return buf;
    }
    case FsInfoClass.FileFsSizeInformation: {
      // FileFsSizeInformation: TotalAllocationUnits, AvailableAllocationUnits, SectorsPerAllocationUnit, BytesPerSector.
      const buf = Buffer.alloc(24);
      buf.writeBigUInt64LE(fs.totalBytes / bytesPerUnit, 0);
      buf.writeBigUInt64LE(fs.availableBytes / bytesPerUnit, 8);
      buf.writeUInt32LE(fs.sectorsPerAllocationUnit >>> 0, 16);
      buf.writeUInt32LE(fs.bytesPerSector >>> 0, 20);
      return buf;
    }
    case FsInfoClass.FileFsDeviceInformation: {
      // FileFsDeviceInformation: DeviceType, Characteristics.
      const buf = Buffer.alloc(8);
      buf.writeUInt32LE(FILE_DEVICE_DISK, 0);
      buf.writeUInt32LE(FILE_DEVICE_IS_MOUNTED, 4);
      return buf;
    }
    case FsInfoClass.FileFsAttributeInformation: {
      // FileFsAttributeInformation: FileSystemAttributes, MaximumComponentNameLength, FileSystemNameLength, FileSystemName.
      const name = Buffer.from(fs.fsName, 'utf16le');
      const buf = Buffer.alloc(12 + name.length);
      buf.writeUInt32LE((opts.fsAttributes ?? fs.fsAttributes ?? DEFAULT_FS_ATTRIBUTES) >>> 0, 0);
      buf.writeUInt32LE(fs.maxNameLength >>> 0, 4);
      buf.writeUInt32LE(name.length, 8);
      name.copy(buf, 12);
      return buf;
    }
    case FsInfoClass.FileFsFullSizeInformation: {
      // FileFsFullSizeInformation: TotalAllocationUnits, CallerAvailableAllocationUnits, ActualAvailableAllocationUnits,
      // SectorsPerAllocationUnit, BytesPerSector.
      const buf = Buffer.alloc(32);
      buf.writeBigUInt64LE(fs.totalBytes / bytesPerUnit, 0);
      buf.writeBigUInt64LE(fs.availableBytes / bytesPerUnit, 8);
      buf.writeBigUInt64LE(fs.freeBytes / bytesPerUnit, 16);
      buf.writeUInt32LE(fs.sectorsPerAllocationUnit >>> 0, 24);
      buf.writeUInt32LE(fs.bytesPerSector >>> 0, 28);
      return buf;
    }
    case FsInfoClass.FileFsControlInformation: {
      // No quotas: thresholds and limits are -1 ("none"), as Samba reports without quota support.
      const b = Buffer.alloc(48);
      b.writeBigInt64LE(-1n, 24);
      b.writeBigInt64LE(-1n, 32);
      return b;
    }
    case FsInfoClass.FileFsObjectIdInformation: {
      // FileFsObjectIdInformation: ObjectId (16), ExtendedInfo (48). The volume has no GUID of its own; the serial
      // makes a stable one.
      const buf = Buffer.alloc(64);
      buf.writeUInt32LE(fs.volumeSerial >>> 0, 0);
      return buf;
    }
    case FsInfoClass.FileFsSectorSizeInformation: {
      // FileFsSectorSizeInformation: logical, physical-atomic, physical-performance, effective-atomic sector sizes,
      // Flags, ByteOffsetForSectorAlignment, ByteOffsetForPartitionAlignment.
      const buf = Buffer.alloc(28);
      const sector = fs.bytesPerSector >>> 0;
      buf.writeUInt32LE(sector, 0);
      buf.writeUInt32LE(sector, 4);
      buf.writeUInt32LE(sector, 8);
      buf.writeUInt32LE(sector, 12);
      buf.writeUInt32LE(SSINFO_FLAGS_ALIGNED_DEVICE | SSINFO_FLAGS_PARTITION_ALIGNED_ON_DEVICE, 16);
      return buf;
    }
    default:
      fail(Status.INVALID_INFO_CLASS, `fs info class ${infoClass}`);
  }
}
