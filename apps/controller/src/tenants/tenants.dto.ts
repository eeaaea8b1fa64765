import { ApiProperty } from '@nestjs/swagger';

export class TenantView {
  @ApiProperty({ example: 'acme' })
  tenant!: string;
  @ApiProperty({ description: 'ISO time of its first instance' })
  createdAt!: string;
  @ApiProperty({ type: [String], description: 'Its vNFs that have an instance now', example: ['fw1'] })
  vnfs!: string[];
}
