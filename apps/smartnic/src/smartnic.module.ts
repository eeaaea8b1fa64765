import { DynamicModule, Module } from '@nestjs/common';
import { SMARTNIC_OPTIONS } from './smartnic.constants.js';
import { SmartnicController } from './smartnic.controller.js';
import { SmartnicOptions, SmartnicService } from './smartnic.service.js';

@Module({})
export class SmartnicModule {
  static forRoot(options: SmartnicOptions = {}): DynamicModule {
    return {
      module: SmartnicModule,
      controllers: [SmartnicController],
      providers: [{ provide: SMARTNIC_OPTIONS, useValue: options }, SmartnicService],
      exports: [SmartnicService],
    };
  }
}
